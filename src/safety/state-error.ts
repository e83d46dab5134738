/**
 * A problem with the state directory or a file in it (the journal, the lock, the evidence
 * record): local, found before any change, exit 2 with one line.
 */
export class JournalError extends Error {
  override readonly name = 'JournalError';
}
