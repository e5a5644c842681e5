/** Bundles `source` like tsup bundles the packages and runs it in a fresh Node process; resolves to its stdout. */
export declare function runFreshNode(options: {
  readonly packageDir: string;
  readonly source: string;
  readonly args?: readonly string[];
  readonly timeoutMs?: number;
}): Promise<string>;
