/** Output parsers for the `openmldb` binary (ns_client, tablet client, sql_client). */
export { ParseError, CommandFailedError, excerpt } from './errors.js';
export { splitLines, isNoiseLine, isPromptLine, isShellLine, logMessageOf, logMessages, nsLeaderOf, resultLines } from './lines.js';
export {
  parseTable,
  tryParseTable,
  isRuleLine,
  SIZE_PATTERN,
  DEFAULT_COLUMN_RULES,
  type ColumnRule,
  type Reading,
  type TableRow,
  type ParsedTable,
  type TableOptions,
} from './table.js';
export {
  classifyResult,
  classifyFailureLine,
  findFailure,
  findLoggedFailure,
  isTransient,
  MUTATING_COMMANDS,
  type MutatingCommand,
  type FailureKind,
  type CommandResult,
  type CommandSuccess,
  type CommandFailure,
} from './messages.js';
export { parseShowTable, parseShowTableDetailed, type ShowTableRow, type ShowTableResult } from './showtable.js';
export { ageUpperBoundMs, parseShowTablet, type ShowTabletRow } from './showtablet.js';
export { parseShowNs, type ShowNsResult, type NameserverRow } from './showns.js';
export { parseShowOpStatus, type OpStatusRow, type OpStatus } from './showopstatus.js';
export {
  parseGetTableStatus,
  type GetTableStatusResult,
  type TabletTableStatus,
  type TableMode,
  type TableState,
} from './gettablestatus.js';
export { parseConfGet, type ConfGetResult } from './confget.js';
export { parseShowDb } from './showdb.js';
export {
  parseShowTableStatus,
  parseBrokenTableNotices,
  type SqlTableStatusRow,
  type BrokenTableNotice,
} from './showtablestatus.js';
