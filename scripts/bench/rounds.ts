/** Rounds run interleaved, A B C A B C …: the machine's noise falls on every client alike. */
import { CLIENT_LABELS, CLIENTS, type ClientName } from './report.js';

export type Contenders<S> = Partial<Record<ClientName, () => Promise<S>>>;

export async function interleave<S>(
  rounds: number,
  contenders: Contenders<S>,
  progress?: (line: string) => void,
): Promise<Partial<Record<ClientName, S[]>>> {
  const samples: Partial<Record<ClientName, S[]>> = {};
  const order = CLIENTS.filter((client) => contenders[client]);
  for (const client of order) samples[client] = [];
  const every = Math.max(1, Math.round(rounds / 4));
  for (let round = 0; round < rounds; round++) {
    for (const client of order) {
      const run = contenders[client] as () => Promise<S>;
      (samples[client] as S[]).push(await run());
    }
    if (progress && (round + 1) % every === 0 && round + 1 < rounds) progress(`  round ${round + 1}/${rounds}`);
  }
  return samples;
}

export function label(client: ClientName): string {
  return CLIENT_LABELS[client];
}
