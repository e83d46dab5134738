import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ParseError, parseTable, tryParseTable } from '../../../src/cluster/parse/index.js';
import { mangle, tprint } from './tprint.js';

const SHOWTABLE_HEADER = ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'];

describe('parseTable: layout by header position', () => {
  it('reads sizes containing a space and the columns after them', () => {
    // layout C plus a column after diskused: sizes must not shift what follows
    const header = ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'memused', 'diskused', 'storage_mode'];
    const text = tprint(header, [
      ['t1', '3', '0', '172.27.2.52:9520', 'leader', 'yes', '1024', '83.500 K', '12.345 K', 'kMemory'],
      ['t1', '3', '0', '172.27.2.53:9520', 'follower', 'yes', '1024', '0.000', '1.500 M', 'kSSD'],
      ['t1', '3', '1', '172.27.2.53:9520', 'leader', 'no', '-', '-', '0.000', 'kHDD'],
    ]);
    const table = parseTable(text);
    assert.deepEqual(table.columns, header);
    assert.deepEqual(
      table.rows.map((r) => [r.cells['offset'], r.cells['memused'], r.cells['diskused'], r.cells['storage_mode']]),
      [
        ['1024', '83.500 K', '12.345 K', 'kMemory'],
        ['1024', '0.000', '1.500 M', 'kSSD'],
        ['-', '-', '0.000', 'kHDD'],
      ],
    );
    assert.ok(table.rows.every((r) => r.reading === 'position'));
    assert.equal(table.framing, 'tprinter');

    // the same table with whitespace collapsed reads the same, by tokens
    const flat = parseTable(mangle(text));
    assert.deepEqual(
      flat.rows.map((r) => r.cells),
      table.rows.map((r) => r.cells),
    );
    assert.ok(flat.rows.every((r) => r.reading === 'tokens'));
  });

  it('an empty table (header and dashes only) has zero rows', () => {
    const text = 'ns leader: 127.0.0.1:7527\n' + tprint(SHOWTABLE_HEADER, []);
    const table = parseTable(text);
    assert.deepEqual(table.columns, SHOWTABLE_HEADER);
    assert.equal(table.rows.length, 0);
    assert.deepEqual(table.before, ['ns leader: 127.0.0.1:7527']);
    assert.equal(parseTable('  #  name\n--------------\n').rows.length, 0);
  });

  it('skips shell lines, prompts, ns leader lines and log noise; tolerates CRLF and trailing spaces', () => {
    const body = tprint(['endpoint', 'state', 'age'], [
      ['127.0.0.1:9520', 'kHealthy', '3h'],
      ['127.0.0.1:9521', 'kOffline', '7m'],
    ]);
    const [header, dashes, row1, row2] = body.split('\n');
    const text = [
      '$ ./bin/openmldb --zk_cluster=127.0.0.1:2181 --zk_root_path=/openmldb --role=ns_client',
      'WARNING: Logging before InitGoogleLogging() is written to STDERR',
      'I0508 10:15:01.123456 12345 ns_client.cc:42] connected',
      '2024-05-08 10:15:01,123:12345(0x7f3c2a):ZOO_INFO@log_env@1250: Client environment:zookeeper.version=zookeeper C client 3.4.14',
      '> showtablet',
      'ns leader: 127.0.0.1:7527',
      header,
      dashes,
      row1,
      'W0508 10:15:01.223456 12345 ns_client.cc:50] slow',
      row2,
      '',
    ].join('\r\n');
    const table = parseTable(text);
    assert.deepEqual(
      table.rows.map((r) => r.cells),
      [
        { endpoint: '127.0.0.1:9520', state: 'kHealthy', age: '3h' },
        { endpoint: '127.0.0.1:9521', state: 'kOffline', age: '7m' },
      ],
    );
    assert.ok(table.rows.every((r) => r.reading === 'position'));
  });

  it('reads a header indented differently from its rows by a constant shift', () => {
    const text = [
      '   name           tid  pid  endpoint          role    is_alive  offset  record_cnt  memused  diskused',
      '------------------------------------------------------------------------------------------------------',
      '  aaa            22   0    172.24.4.55:9971  leader  yes       0       0           0.000    8.646 K',
    ].join('\n');
    const [row] = parseTable(text).rows;
    assert.equal(row?.reading, 'shifted');
    assert.equal(row?.cells['diskused'], '8.646 K');
    assert.equal(row?.cells['name'], 'aaa');
  });

  it('reads the sql_client framing (dash lines around the header and after the rows)', () => {
    const text = [
      'ERROR: table db.t1 is broken, `show table status` to check detail, unalive partition: 2',
      'HINT: Use `openmldb_tool inspect` to get full report.',
      ' ---------- ------------ ---------- ',
      '  Table_id   Table_name   Warnings  ',
      ' ---------- ------------ ---------- ',
      '  6          t1           [pid=0]: real replica number 0 does not match the configured replicanum 3  ',
      '  7          t2                     ',
      ' ---------- ------------ ---------- ',
      '',
      '2 rows in set',
    ].join('\n');
    const table = parseTable(text);
    assert.equal(table.framing, 'sql');
    assert.deepEqual(
      table.rows.map((r) => r.cells),
      [
        { Table_id: '6', Table_name: 't1', Warnings: '[pid=0]: real replica number 0 does not match the configured replicanum 3' },
        { Table_id: '7', Table_name: 't2', Warnings: '' },
      ],
    );
    assert.deepEqual(table.after, ['2 rows in set']);
    assert.equal(table.before.length, 2);
  });
});

describe('parseTable: never a shifted value', () => {
  const good = ['t1', '3', '0', '172.27.2.52:9520', 'leader', 'yes', '1024', '512', '83.500 K', '12.345 K'];
  const text = tprint(SHOWTABLE_HEADER, [good]);
  const [header, dashes, row] = text.split('\n') as [string, string, string];

  it('a row missing its last cell is rejected (position and tokens)', () => {
    const short = row.replace(/12\.345 K\s*$/, '');
    assert.throws(() => parseTable([header, dashes, short].join('\n')), ParseError);
    assert.throws(() => parseTable(mangle([header, dashes, short].join('\n'))), ParseError);
  });

  it('a row with an extra cell is rejected', () => {
    assert.throws(() => parseTable([header, dashes, `${row}  extra`].join('\n')), ParseError);
    assert.throws(() => parseTable([header, dashes, `${row.trimEnd()} 7`].join('\n')), ParseError);
    assert.throws(() => parseTable(mangle([header, dashes, `${row}  extra`].join('\n'))), ParseError);
  });

  it('a row missing a middle cell is rejected, not read with later values moved left', () => {
    // record_cnt missing: by tokens, 83.500 would land in record_cnt
    const missing = '  t1    3    0    172.27.2.52:9520  leader    yes       1024    83.500 K  12.345 K';
    assert.throws(() => parseTable([header, dashes, missing].join('\n')), ParseError);
  });

  it('a size without its value is rejected (a lone unit is never a value)', () => {
    const t = ['  tid  pid  offset  mode          state         memused  compress_type', '-'.repeat(70)];
    assert.throws(() => parseTable([...t, '  1 0 4 kTableLeader kTableNormal 1.313 K'].join('\n')), ParseError);
    assert.throws(() => parseTable([...t, '  1 0 4 kTableLeader kTableNormal K kNoCompress'].join('\n')), ParseError);
  });

  it('a misaligned row with a value the token reading cannot place is rejected', () => {
    const misaligned = '  t1  3  0  172.27.2.52:9520  leader  yes  1024  512  83.500 K  12.345 K  x';
    assert.throws(
      () => parseTable([header, dashes, misaligned].join('\n')),
      (e: unknown) => e instanceof ParseError && e.line === misaligned && /does not fit/.test(e.message),
    );
  });

  it('throws when tokens fit the columns in more than one way', () => {
    const text2 = '  a  b\n------\n  x y z';
    assert.throws(
      () => parseTable(text2, { columns: { a: { free: true }, b: { free: true } } }),
      (e: unknown) => e instanceof ParseError && /more than one way/.test(e.reason),
    );
  });

  it('throws when the position and token readings disagree', () => {
    // by position: a=1.0 b=K c=z; by tokens: a="1.0 K" b="" c=z
    const text2 = '  a    b    c\n-------------\n  1.0  K    z';
    assert.throws(
      () => parseTable(text2, { columns: { a: { size: true }, b: { emptyOk: true } } }),
      (e: unknown) => e instanceof ParseError && /differently/.test(e.reason),
    );
  });
});

describe('parseTable: not a table', () => {
  it('garbled text is a ParseError naming the command and showing the text', () => {
    const garbled = 'Segmentation fault (core dumped)\n\u0000\u0001 junk';
    assert.equal(tryParseTable(garbled), undefined);
    assert.throws(
      () => parseTable(garbled, { command: 'showtable' }),
      (e: unknown) =>
        e instanceof ParseError &&
        e.command === 'showtable' &&
        e.text === garbled &&
        e.message.includes('`showtable`') &&
        e.message.includes('Segmentation fault'),
    );
  });

  it('a dash line without a header, or a duplicated column name, is a ParseError', () => {
    assert.throws(() => parseTable('\n------\n  a  b\n'), ParseError);
    assert.throws(() => parseTable('  a  a\n------\n  1  2\n'), /duplicate column/);
  });

  it('a second dash line inside a TPrinter table is a ParseError', () => {
    assert.throws(() => parseTable('  a  b\n------\n  1  2\n------\n  3  4\n'), /second dash line/);
  });

  it('long output is truncated in the message', () => {
    const long = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(500)}`).join('\n');
    try {
      parseTable(long, { command: 'showtable' });
      assert.fail('expected a ParseError');
    } catch (e) {
      assert.ok(e instanceof ParseError);
      assert.ok(e.message.length < 6000, `message is ${e.message.length} chars`);
      assert.match(e.message, /more lines/);
      assert.equal(e.text, long);
    }
  });
});
