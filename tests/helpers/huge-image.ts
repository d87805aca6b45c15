import zlib from 'node:zlib';

/*
 * Images of one colour with a huge pixel count in small files, written byte by byte: what a
 * user's 20,000 x 20,000 render is to a decoder, without a test paying for an encoder to push
 * 400 million pixels through. Both decode (with the pixel limit lifted) to a plain grey or black.
 */

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A black 1-bit greyscale PNG (20,000 x 20,000: about 50 kB). */
export function makeHugePng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth; colour type 0 (grey), no interlace
  // Each row: filter byte 0, then width bits of 0 (black).
  const scanlines = Buffer.alloc(height * (1 + Math.ceil(width / 8)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(scanlines, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const segment = (marker: number, body: number[]): Buffer => {
  const length = body.length + 2;
  return Buffer.from([0xff, marker, length >> 8, length & 0xff, ...body]);
};

/**
 * A mid-grey baseline greyscale JPEG whose width and height are multiples of 8 (20,000 x
 * 20,000: about 1.6 MB). Its Huffman tables have one code each, "0": every 8 x 8 block is a DC
 * difference of 0 then end-of-block, two zero bits.
 */
export function makeHugeJpeg(width: number, height: number): Buffer {
  if (width % 8 !== 0 || height % 8 !== 0) throw new Error('width and height: multiples of 8');
  const oneCode = (tableClass: number, symbol: number) =>
    segment(0xc4, [tableClass << 4, 1, ...Array<number>(15).fill(0), symbol]);
  const blocks = (width / 8) * (height / 8);
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, [0, ...Array<number>(64).fill(1)]),
    segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    oneCode(0, 0), // DC: category 0
    oneCode(1, 0), // AC: end of block
    segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    // Two bits per block; the last byte is padded with 1 bits, as the standard asks.
    Buffer.alloc(Math.ceil(blocks / 4), 0),
    ...(blocks % 4 === 0 ? [] : [Buffer.from([0xff >> ((blocks % 4) * 2)])]),
    Buffer.from([0xff, 0xd9]),
  ]);
}
