/**
 * The run's metrics log: one JSON object per line (`metrics.jsonl`), appended as training goes.
 * Records: `{"type":"train","step","epoch","loss","lr","ssr","itPerSec","time"}` every
 * `logEverySteps` steps, `{"type":"valid","step","epoch","loss","mse","ssim"?,"ssr","lr"}` after
 * each validation, `{"type":"schedule",...}` when a schedule changes, `{"type":"checkpoint",...}`,
 * `{"type":"final",...}` at the end. A resumed run first truncates records after its step, so
 * the log reads as one uninterrupted run.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';

/** One record of the log. */
export type MetricsRecord = { readonly type: string; readonly step: number } & Record<string, unknown>;

export class MetricsLog {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async append(record: MetricsRecord): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }

  /** Every record (skipping a torn last line). */
  async read(): Promise<MetricsRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return [];
    }
    const records: MetricsRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as MetricsRecord);
      } catch {
        // A line cut by a kill: ignore it.
      }
    }
    return records;
  }

  /** Keeps only the records up to `step` (those of a resumed checkpoint), dropping later ones. */
  async truncateAfter(step: number): Promise<void> {
    const records = (await this.read()).filter((r) => r.step <= step && r.type !== 'final');
    await writeFile(this.path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
