// The pure parts of `echocue replay` (issue 17): where --into points, when it is the live database, and the report.
import { describe, expect, test } from 'vitest';
import { AppError } from '../core/errors.ts';
import { differingFields } from '../store/replay-target.ts';
import { databaseOf, hasDifference, reportText, sameDatabase, targetOf, type ReplayReport } from './replay.ts';

const LIVE = 'mongodb://127.0.0.1:27027/echocue?retryWrites=false';

describe('cli > replay', () => {
  test('--into: a database name is that database on the live server, query options kept; a URI is taken as it is', () => {
    expect(targetOf('replay_1', LIVE)).toEqual({ uri: 'mongodb://127.0.0.1:27027/replay_1?retryWrites=false', sameServer: true });
    expect(targetOf('mongodb://other:27017/x', LIVE)).toEqual({ uri: 'mongodb://other:27017/x', sameServer: false });
    expect(() => targetOf('no/such db', LIVE)).toThrow(AppError);
  });

  test('the live database is recognised by its hosts and name, whatever the credentials and options', () => {
    expect(sameDatabase('mongodb://u:p@127.0.0.1:27027/echocue', LIVE)).toBe(true);
    expect(sameDatabase(targetOf('echocue', LIVE).uri, LIVE)).toBe(true);
    expect(sameDatabase('mongodb://127.0.0.1:27027/echocue2', LIVE)).toBe(false);
    expect(sameDatabase('mongodb://10.0.0.9:27027/echocue', LIVE)).toBe(false);
    expect(databaseOf('mongodb://h:1/')).toBe('test'); // the driver's default
  });

  test('differing fields leave out the store stamps (changed_at, _v) and name fields present on one side only', () => {
    const a = { _id: 'm', status: 'read', changed_at: new Date(1), _v: 3, at: new Date(5) };
    const b = { _id: 'm', status: 'read', changed_at: new Date(2), _v: 1, at: new Date(5) };
    expect(differingFields(a, b)).toEqual([]);
    expect(differingFields({ ...a, status: 'failed' }, { ...b, extra: 1 })).toEqual(['extra', 'status']);
  });

  test('the report: a difference in any collection makes it DIFFERENT, and names each example', () => {
    const same = {
      collection: 'ec_thread',
      same: 2,
      onlyLive: 0,
      onlyReplay: 0,
      different: 0,
      notReplayed: 0,
      examples: { onlyLive: [], onlyReplay: [], different: [] },
    };
    const differs = {
      ...same,
      collection: 'ec_message',
      different: 1,
      examples: { ...same.examples, different: [{ id: 'msg_1', fields: ['a'] }] },
    };
    expect(hasDifference([same])).toBe(false);
    expect(hasDifference([same, differs])).toBe(true);
    const report: ReplayReport = {
      live: 'echocue',
      replay: 'r1',
      from: null,
      compared: 'all documents',
      ignoredFields: ['changed_at', '_v'],
      tenancyCopied: {},
      counts: null,
      collections: [same, differs],
      difference: true,
    };
    const text = reportText(report);
    expect(text).toContain('different:   msg_1 (a)');
    expect(text.split('\n').at(-1)).toBe('DIFFERENT: the replay does not match the live database');
    expect(
      reportText({ ...report, collections: [same], difference: false })
        .split('\n')
        .at(-1),
    ).toBe('no difference');
  });
});
