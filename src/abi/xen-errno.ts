// Xen's error numbers (xen/include/public/errno.h). They equal Linux's values on
// x86; hypercalls return them negated in EAX/RAX.

export const XEN_EPERM = 1;
export const XEN_ENOENT = 2;
export const XEN_ESRCH = 3;
export const XEN_EINTR = 4;
export const XEN_EIO = 5;
export const XEN_ENXIO = 6;
export const XEN_EAGAIN = 11;
export const XEN_ENOMEM = 12;
export const XEN_EACCES = 13;
export const XEN_EFAULT = 14;
export const XEN_EBUSY = 16;
export const XEN_EEXIST = 17;
export const XEN_EXDEV = 18;
export const XEN_ENODEV = 19;
export const XEN_EINVAL = 22;
export const XEN_ENOSPC = 28;
export const XEN_ENOSYS = 38;
export const XEN_ETIME = 62;
export const XEN_EILSEQ = 84;
export const XEN_EOPNOTSUPP = 95;
