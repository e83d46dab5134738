// TPrinter / TextTable / value formatting against the real transcripts.
//
// Which fixtures are genuine printer output (the table re-printed from its own cells
// matches every line; the docs strip trailing spaces, so lines are compared without them):
//   003 004 005 006 012 014 016 017 021 027 037 039 049 053 (TPrinter)
//   054 055 (TextTable, byte for byte including the trailing spaces), 056 (TextTable,
//   trailing spaces stripped by the docs).
// Hand-edited or damaged in the docs, so not compared:
//   001 002     header line not indented, dash line longer than the columns (2017/2018 doc edits)
//   007         column widths wider than the cells (`op_type`, `name` padded by hand)
//   008 010 026 `key` column padded to 18 instead of 13 (hand-aligned sample)
//   011 018 029 048 050  `tid` values one column left of the header, `ttl` / `offset` padded by hand
//   019 020     header line indented 3 spaces instead of 2
//   022-025     rows wider than the header (`test1` under `name`), dash line too short
//   033 034 035 `op_type` column 2 wider than its longest cell
//   038         `tid`, `offset`, `ttl` columns padded wider than any cell
//   044 045     whitespace mangled (single spaces), dash line of another table
//   047         dash line one short of the header (hand edit after adding `1min`)
//   051 052     dash line one short (29 instead of 30)
//   040-043 046 whitespace mangled (no table layout left)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTable, formatTextTable, humanReadableString, humanReadableTime } from '../../src/openmldb/tprinter.js';
import { loadFixture } from '../helpers/fixtures.js';

const EXACT_TPRINTER = [
  '003-gettablestatus-rtidb-cli-all.txt',
  '004-gettablestatus-rtidb-cli-one.txt',
  '005-showtablet-rtidb-cli.txt',
  '006-showopstatus-rtidb-cli-noname.txt',
  '012-showtablet-zh-backup-offline.txt',
  '014-showtablet-zh-backup-healthy.txt',
  '016-showopstatus-zh-backup-doing.txt',
  '017-showopstatus-zh-backup-done.txt',
  '021-showtablet-zh-cli-realendpoint.txt',
  '027-confget-zh-cli-key.txt',
  '037-showns-zh-cli-realendpoint.txt',
  '039-gettablestatus-zh-cli-one.txt',
  '049-showopstatus-zh-scale-migrate.txt',
  '053-showtablet-docszh-deploy-single.txt',
];

const stripRight = (l: string) => l.replace(/ +$/, '');

/** The table in a transcript: header line, dash line, rows (lines starting with two spaces). */
function tableOf(body: string): { lines: string[]; header: string[]; rows: string[][] } {
  const lines = body.replace(/\r/g, '').split('\n');
  const dash = lines.findIndex((l) => /^-{5,}\s*$/.test(l));
  assert.ok(dash > 0, 'no dash line');
  const rowLines: string[] = [];
  for (let i = dash + 1; i < lines.length && (lines[i] as string).startsWith('  '); i++) rowLines.push(lines[i] as string);
  // cells are separated by at least two spaces; sizes such as `1.313 K` hold a single one
  const cells = (l: string) => l.trim().split(/ {2,}/);
  return {
    lines: [lines[dash - 1] as string, lines[dash] as string, ...rowLines],
    header: cells(lines[dash - 1] as string),
    rows: rowLines.map(cells),
  };
}

describe('formatTable reproduces the genuine TPrinter transcripts', () => {
  for (const file of EXACT_TPRINTER) {
    test(file, () => {
      const t = tableOf(loadFixture(file).body);
      const printed = formatTable(t.header, t.rows);
      assert.ok(printed.endsWith('\n'));
      assert.deepEqual(printed.slice(0, -1).split('\n').map(stripRight), t.lines.map(stripRight));
    });
  }
});

describe('formatTable rules', () => {
  test('every cell padded, the last one too; dash line = sum(width + 2) + 2', () => {
    const out = formatTable(['key', 'value'], [['auto_failover', 'true']]);
    assert.equal(out, '  key            value\n------------------------\n  auto_failover  true \n');
  });
  test('header and dashes only when there are no rows', () => {
    assert.equal(formatTable(['#', 'name'], []), '  #  name\n-----------\n');
  });
  test('an empty cell prints `-`, its width computed before the substitution', () => {
    const out = formatTable(['endpoint', 'real_endpoint', 'role'], [['172.27.2.52:7527', '', 'leader']]);
    assert.equal(out.split('\n')[2], '  172.27.2.52:7527  -              leader');
    // a column whose every cell is empty has width 0 plus the header's
    assert.equal(formatTable(['a', 'b'], [['', 'x']]).split('\n')[2], '  -  x');
  });
  test('cells longer than maxColWidth are cut', () => {
    const out = formatTable(['name'], [['abcdefghij']], { maxColWidth: 4 });
    assert.equal(out, '  name\n--------\n  abcd\n');
  });
  test('reference section 3.4 sample', () => {
    const out = formatTable(
      ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'],
      [['t1', '3', '0', '172.27.2.52:9520', 'leader', 'yes', '1024', '512', '83.500 K', '12.345 K']],
    );
    const lines = out.split('\n');
    assert.equal(stripRight(lines[0] as string), '  name  tid  pid  endpoint          role    is_alive  offset  record_cnt  memused   diskused');
    assert.equal(lines[1], '-'.repeat(94));
    assert.equal(lines[2], '  t1    3    0    172.27.2.52:9520  leader  yes       1024    512         83.500 K  12.345 K');
  });
});

describe('formatTextTable (SQL client result sets)', () => {
  const header13 = [
    'Table_id',
    'Table_name',
    'Database_name',
    'Storage_type',
    'Rows',
    'Memory_data_size',
    'Disk_data_size',
    'Partition',
    'Partition_unalive',
    'Replica',
    'Offline_path',
    'Offline_format',
    'Offline_deep_copy',
  ];
  const row13 = ['6', 't1', 'db', 'memory', '2', '479', '0', '8', '0', '3', 'NULL', 'NULL', 'NULL'];

  for (const file of ['054-show-table-status-zh-sqlref-nowarnings.txt', '055-show-table-status-en-sqlref-nowarnings.txt']) {
    test(`${file} byte for byte`, () => {
      const body = loadFixture(file).body;
      const expected = body.slice(body.indexOf('\n ---') + 1);
      assert.equal(formatTextTable(header13, [row13]), expected);
    });
  }
  test('056 with an empty Warnings column (trailing spaces stripped by the docs)', () => {
    const body = loadFixture('056-show-table-status-zh-sql-warnings.txt').body;
    const expected = body.slice(body.indexOf('\n ---') + 1).split('\n').map(stripRight);
    const got = formatTextTable([...header13, 'Warnings'], [[...row13, '']]).split('\n').map(stripRight);
    assert.deepEqual(got, expected);
  });
  test('multi-line cells take several lines; header only -> ruler, header, ruler', () => {
    assert.equal(formatTextTable(['a', 'Warnings'], []), ' --- ---------- \n  a   Warnings  \n --- ---------- \n');
    const out = formatTextTable(['a', 'w'], [['1', 'x\nyy']]);
    assert.equal(out, ' --- ---- \n  a   w   \n --- ---- \n  1   x   \n      yy  \n --- ---- \n');
  });
});

describe('value formats', () => {
  test('HumanReadableString', () => {
    assert.equal(humanReadableString(0), '0.000');
    assert.equal(humanReadableString(689), '689.000');
    assert.equal(humanReadableString(1023), '1023.000');
    assert.equal(humanReadableString(1024), '1.000 K');
    assert.equal(humanReadableString(1345), '1.313 K');
    assert.equal(humanReadableString(85504), '83.500 K');
    assert.equal(humanReadableString(4.5 * 1024 * 1024), '4.500 M');
    assert.equal(humanReadableString(1048575), '1023.999 K');
    assert.equal(humanReadableString(3 * 1024 ** 3), '3.000 G');
    // glibc printf rounds exact ties to even: 1344/1024 = 1.3125
    assert.equal(humanReadableString(1344), '1.312 K');
    assert.equal(humanReadableString(1346), '1.314 K');
    assert.equal(humanReadableString(-5), '-5.000');
  });
  test('HumanReadableTime', () => {
    assert.equal(humanReadableTime(0), '0ms');
    assert.equal(humanReadableTime(850), '850ms');
    assert.equal(humanReadableTime(15000), '15s');
    assert.equal(humanReadableTime(59999), '59s');
    assert.equal(humanReadableTime(7 * 60000 + 5000), '7m');
    assert.equal(humanReadableTime(3 * 3600000 + 59 * 60000), '3h');
    assert.equal(humanReadableTime(86400000 * 15), '15d');
  });
});
