// A run whose terminal closed under it (an ssh session dropped, no nohup) must still exit
// with the code it chose. Node, on its way out, restores the terminal settings it found at
// start, gets EIO from the hung-up terminal and aborts (node::ResetStdio), so a run that
// restored auto_failover and chose 129 (or 0) ended 134, maybe with a core dump. Node skips
// a descriptor that no longer names the file it found at start: at exit, the descriptors
// whose terminal is gone are pointed at /dev/null (nothing could be shown there anyway).
import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';

/** The standard descriptors that were a terminal at start. */
const TERMINAL_FDS = [0, 1, 2].filter((fd) => isatty(fd));

/** Call at exit: a terminal descriptor that no longer answers as one (hung up) is let go. */
export function releaseHungUpTerminal(): void {
  for (const fd of TERMINAL_FDS) {
    if (isatty(fd)) continue; // still a live terminal: Node restores it as usual
    try {
      closeSync(fd);
      // The lowest free descriptor: the one just closed.
      const got = openSync('/dev/null', fd === 0 ? 'r' : 'w');
      if (got !== fd) closeSync(got);
    } catch {
      /* the terminal is gone either way */
    }
  }
}
