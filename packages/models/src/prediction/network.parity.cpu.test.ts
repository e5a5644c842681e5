/**
 * Parity with NVlabs/conv-tt-lstm `ConvLSTMNet` on the shared reference fixtures, on the cpu
 * backend: see `__fixtures__/parity-suite.ts` for the protocol and tolerances.
 */
import { describeParity } from './__fixtures__/parity-suite.js';

await describeParity('cpu');
