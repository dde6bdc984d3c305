# Sourced by build.sh and firmware-images.sh (which define `die`).
#
#   copy_modules MODDIR MODOUT FLAVOUR NAME...
#
# Copies the named modules of an unpacked Debian kernel (MODDIR = .../lib/modules/RELEASE)
# and, transitively, every module they depend on (modinfo's `depends`) into MODOUT at
# the same relative paths. A module built into the kernel (modules.builtin) is skipped;
# one that is neither there nor built in stops the build.
copy_modules() {
  local moddir=$1 modout=$2 flavour=$3
  shift 3
  local wanted=("$@") name pattern ko deps
  local -A copied=()
  while ((${#wanted[@]})); do
    name=${wanted[0]}; wanted=("${wanted[@]:1}")
    [[ -z $name || -n ${copied[$name]:-} ]] && continue
    copied[$name]=1
    # Module names use - and _ interchangeably; file names keep the build's spelling.
    pattern=$(echo "$name" | sed 's/[-_]/[-_]/g')
    ko=$(find "$moddir/kernel" -regex ".*/$pattern\.ko\(\.[a-z]+\)?" | head -n 1)
    if [[ -z $ko ]]; then
      grep -q "/$pattern\.ko\$" "$moddir/modules.builtin" && continue
      die "module $name is neither in the $flavour kernel package (as unpacked) nor built in"
    fi
    mkdir -p "$modout/$(dirname "${ko#"$moddir"/}")"
    cp "$ko" "$modout/${ko#"$moddir"/}"
    IFS=, read -ra deps <<<"$(modinfo -F depends "$ko")"
    wanted+=("${deps[@]}")
  done
}
