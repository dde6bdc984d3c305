// Screenshots of a rendered frame (the VGA's render()) as PNG files, encoded by
// pngjs. RGBA in, 8-bit RGBA PNG out, so a decode gives back the same bytes.

import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`screenshot: bad size ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`screenshot: ${rgba.length} bytes of RGBA for ${width}x${height} (want ${width * height * 4})`);
  }
  const png = new PNG({ width, height, colorType: 6, inputColorType: 6, inputHasAlpha: true });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, { colorType: 6 });
}

export function writePng(path: string, image: RgbaImage): void {
  writeFileSync(path, encodePng(image));
}
