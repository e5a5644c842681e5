/** What a case must end in: a typed vid error (whose message matches `pattern`, if given), or data that `check` accepts. */
export type FuzzExpectation =
  | { readonly kind: 'error'; readonly pattern?: string }
  | { readonly kind: 'data'; readonly check?: string }
  | { readonly kind: 'either' };

/** One file to read. */
export interface FuzzCase {
  readonly name: string;
  /** The reader to run, a key of the readers module's `readers`. */
  readonly reader: string;
  readonly bytes: Uint8Array;
  /** File name (its extension matters to some readers). */
  readonly fileName: string;
  readonly expect: FuzzExpectation;
  /** Run it alone in a fresh process, so that its peak RSS is its own. */
  readonly isolated?: boolean;
  /** Peak RSS budget in MiB for this case. */
  readonly rssBudgetMiB?: number;
}

export type FuzzOutcome = 'typed' | 'data' | 'hang' | 'over-budget' | 'untyped' | 'wrong';

export interface FuzzResult {
  readonly name: string;
  readonly reader: string;
  readonly outcome: FuzzOutcome;
  readonly detail: string;
  /** Wall time of the read in the child, in ms (undefined when killed). */
  readonly ms?: number;
  /** The child's peak RSS after the case, in MiB. */
  readonly peakRssMiB?: number;
}

export interface FuzzOptions {
  /** Absolute path of the readers module (TypeScript is fine): exports `readers`, `{ [reader]: (path) => Promise<unknown> }`. */
  readonly module: string;
  readonly cases: readonly FuzzCase[];
  /** A case that runs longer is a hang: the child is killed. @default 10000 */
  readonly timeoutMs?: number;
  /** Peak RSS budget in MiB, unless a case sets its own. @default 512 */
  readonly rssBudgetMiB?: number;
}

/** Runs the cases in child processes under the watchdog; never throws for a case. */
export function runFuzz(options: FuzzOptions): Promise<FuzzResult[]>;

/** Seeded truncations and byte flips of `bytes` (mulberry32). */
export function mutate(
  bytes: Uint8Array,
  seed: number,
  count: number,
): Array<{ readonly name: string; readonly bytes: Uint8Array }>;

/** The table reader × (cases, typed error, correct data, hang, over budget, untyped, wrong), as Markdown. */
export function fuzzTable(results: readonly FuzzResult[]): string;

/** A case without its watchdog settings, as hostile.js makes them. */
export type HostileCase = FuzzCase;

/** Every hand-made hostile file, all readers (pickle, pt-zip, pt-legacy, safetensors, npy, npz, idx). */
export function hostileCases(): HostileCase[];
