/** The colours of vid's pictures. */

/** An RGB colour. */
export type Color = readonly [number, number, number];

export const COLORS = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  gray: [128, 128, 128],
  light: [225, 225, 225],
  blue: [31, 119, 180],
  orange: [255, 127, 14],
  green: [44, 160, 44],
  red: [214, 39, 40],
  purple: [148, 103, 189],
} as const satisfies Record<string, Color>;

/** A series palette (matplotlib's tab10 order). */
export const SERIES_COLORS: readonly Color[] = [COLORS.blue, COLORS.orange, COLORS.green, COLORS.red, COLORS.purple];
