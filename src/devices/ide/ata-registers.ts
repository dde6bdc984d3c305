// ATA register bits and command codes (ATA/ATAPI-6 §7, pc-platform §6.1, §6.4).

// Status register (ATA-6 §7.15).
export const ST_BSY = 0x80;
export const ST_DRDY = 0x40;
export const ST_DF = 0x20;
/** DSC (seek complete) on disks, SERV on packet devices. */
export const ST_DSC = 0x10;
export const ST_DRQ = 0x08;
export const ST_ERR = 0x01;

// Error register (ATA-6 §7.11).
export const ER_UNC = 0x40;
export const ER_IDNF = 0x10;
export const ER_ABRT = 0x04;

// Device control register (ATA-6 §7.9).
export const DC_NIEN = 0x02;
export const DC_SRST = 0x04;
export const DC_HOB = 0x80;

// Device register.
export const DEV_LBA = 0x40;
export const DEV_SLAVE = 0x10;

// ATAPI interrupt reason, read in the sector count register (ATA-6 §8.21).
export const IR_COD = 0x01;
export const IR_IO = 0x02;

/** Command-block register offsets from the base port. */
export const REG_DATA = 0;
export const REG_ERROR_FEATURES = 1;
export const REG_COUNT = 2;
export const REG_LBA_LOW = 3;
export const REG_LBA_MID = 4;
export const REG_LBA_HIGH = 5;
export const REG_DEVICE = 6;
export const REG_STATUS_COMMAND = 7;

// Commands (pc-platform §6.4).
export const CMD = {
  NOP: 0x00,
  DEVICE_RESET: 0x08,
  READ_SECTORS: 0x20,
  READ_SECTORS_NORETRY: 0x21,
  READ_SECTORS_EXT: 0x24,
  READ_DMA_EXT: 0x25,
  READ_NATIVE_MAX_EXT: 0x27,
  READ_MULTIPLE_EXT: 0x29,
  WRITE_SECTORS: 0x30,
  WRITE_SECTORS_NORETRY: 0x31,
  WRITE_SECTORS_EXT: 0x34,
  WRITE_DMA_EXT: 0x35,
  WRITE_MULTIPLE_EXT: 0x39,
  VERIFY: 0x40,
  VERIFY_NORETRY: 0x41,
  VERIFY_EXT: 0x42,
  EXECUTE_DEVICE_DIAGNOSTIC: 0x90,
  INITIALIZE_DEVICE_PARAMETERS: 0x91,
  PACKET: 0xa0,
  IDENTIFY_PACKET_DEVICE: 0xa1,
  READ_MULTIPLE: 0xc4,
  WRITE_MULTIPLE: 0xc5,
  SET_MULTIPLE_MODE: 0xc6,
  READ_DMA: 0xc8,
  READ_DMA_NORETRY: 0xc9,
  WRITE_DMA: 0xca,
  WRITE_DMA_NORETRY: 0xcb,
  STANDBY_IMMEDIATE: 0xe0,
  IDLE_IMMEDIATE: 0xe1,
  STANDBY: 0xe2,
  IDLE: 0xe3,
  CHECK_POWER_MODE: 0xe5,
  FLUSH_CACHE: 0xe7,
  FLUSH_CACHE_EXT: 0xea,
  IDENTIFY_DEVICE: 0xec,
  SET_FEATURES: 0xef,
  READ_NATIVE_MAX: 0xf8,
} as const;

/** ATA sector size. */
export const SECTOR_SIZE = 512;
/** PIO bounce buffer: a MULTIPLE block (16 sectors) or one ATAPI DRQ block (<= 0xFFFE bytes). */
export const PIO_BUFFER_BYTES = 0x10000;
