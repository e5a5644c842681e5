/**
 * @vid/models: whole video architectures built from the vid packages — recognition models
 * (LRCN, Beyond Short Snippets, early activity recognition), optical flow, and video predictors.
 */

// ─── Recognition ─────────────────────────────────────────────────────────────────────────────
// Optical flow
export { type HornSchunckOptions, hornSchunck, videoFlow, warpBilinear } from './flow/horn-schunck.js';
