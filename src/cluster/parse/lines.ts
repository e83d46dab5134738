/**
 * Line-level helpers shared by the table parser and the message classifier:
 * CRLF/trailing-space normalisation and recognition of lines that are not command
 * output (glog/ZooKeeper log noise, transcript prompts, shell lines).
 */

/** Split into lines; drops `\r` (CRLF output) and trailing whitespace (TPrinter pads every cell). */
export function splitLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/\s+$/, ''));
}

// glog: `I0508 10:15:01.123456 12345 file.cc:123] ...` (newer glog adds the year).
const GLOG = /^[IWEF]\d{4}(?:\d{4})? \d{2}:\d{2}:\d{2}\.\d+\s+\d+\s+[^\s\]]+:\d+\] /;
const GLOG_NOTICE = /^WARNING: Logging before InitGoogleLogging\(\) is written to STDERR/;
// ZooKeeper C client: `2024-05-08 10:15:01,123:12345(0x7f3c):ZOO_INFO@log_env@1250: ...`
const ZK_LOG = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}:\d+\(0x[0-9a-fA-F]+\):ZOO_[A-Z]+@/;

/** A log line (glog, ZooKeeper client) that may be interleaved with command output. */
export function isNoiseLine(line: string): boolean {
  return GLOG.test(line) || GLOG_NOTICE.test(line) || ZK_LOG.test(line);
}

/**
 * The message of a glog line (the text after `file.cc:123] `), else undefined. Log lines
 * are kept out of tables and results, but an error can arrive only inside one (a wrapper
 * that merges stderr, a version that logs instead of printing): classifiers read these
 * messages last, after the plain output.
 */
export function logMessageOf(line: string): string | undefined {
  const m = GLOG.exec(line);
  return m === null ? undefined : line.slice(m[0].length).trim();
}

/** The messages of every glog line in `text`, in order. */
export function logMessages(text: string): string[] {
  return splitLines(text)
    .map(logMessageOf)
    .filter((m): m is string => m !== undefined && m !== '');
}

/** A prompt line as seen in transcripts: `> cmd`, `>cmd`, `127.0.0.1:6527 db> cmd`. */
export function isPromptLine(line: string): boolean {
  return /^\s*>/.test(line) || /^[\w.:-]+(?: [\w-]+)? ?>(?: |$)/.test(line);
}

/** A shell command line as seen in transcripts: `$ ./bin/openmldb ...`. */
export function isShellLine(line: string): boolean {
  return /^\s*\$ /.test(line);
}

const NS_LEADER = /^ns leader:\s*(\S+)$/;

/** The endpoint of an `ns leader: <endpoint>` line (first stdout line in ZK mode), else undefined. */
export function nsLeaderOf(line: string): string | undefined {
  return NS_LEADER.exec(line.trim())?.[1];
}

/**
 * Lines that carry command results: not blank, not noise, not a prompt/shell line,
 * not the `ns leader:` banner.
 */
export function resultLines(text: string): string[] {
  return splitLines(text).filter(
    (l) => l.trim() !== '' && !isNoiseLine(l) && !isPromptLine(l) && !isShellLine(l) && nsLeaderOf(l) === undefined,
  );
}
