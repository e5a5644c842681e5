/** Types of gifenc 1.0.3 (the package ships none): the parts vid uses. */
declare module 'gifenc' {
  export interface GifEncoderFrameOptions {
    readonly palette?: number[][];
    readonly delay?: number;
    readonly repeat?: number;
    readonly transparent?: boolean;
    readonly dispose?: number;
  }
  export interface GifEncoderStream {
    writeFrame(index: Uint8Array, width: number, height: number, options?: GifEncoderFrameOptions): void;
    finish(): void;
    bytes(): Uint8Array;
  }
  export function GIFEncoder(options?: {
    readonly auto?: boolean;
    readonly initialCapacity?: number;
  }): GifEncoderStream;
  const gifenc: { GIFEncoder: typeof GIFEncoder };
  export default gifenc;
}
