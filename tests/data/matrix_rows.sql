INSERT INTO matrix.scalars VALUES
(1, -32768, -2147483648, -9223372036854775808, 'NaN', 0.000000000000000000000000000001,
 'NaN', 'NaN', 'unicode ü ß 中文 😀 and a tab	and ''quotes''', 'ten chars!', 'ab',
 '\x00ff00deadbeef00'::bytea, true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
 '-infinity', '00:00:00', '23:59:59.999999+14', '-infinity', '-infinity', '-178000000 years',
 '{"b": 1,   "a": [1, 2 ,3], "a": "dup key kept"}', '{"z": null, "a": {"n": 1.50}}',
 '::ffff:1.2.3.4/128', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
 'a fat cat:1A sat:2B', 'fat & (rat | cat)', '-92233720368547758.08', B'10101010', B'1',
 '<a x="1">text &amp; more</a>', '(1.5,-2.5)', '[1,10)', '[2020-01-01 00:00+00,infinity)',
 '(,0.5]', '{[1,3), [5,7)}', 1, 'très "heureux" 😀', ROW('Main St', 5, ARRAY['x', NULL])),
(2, 32767, 2147483647, 9223372036854775807,
 '123456789012345678901234567890.123456789012345678901234567890e100', -99999999.999999999999999999999999999999,
 'Infinity', '-Infinity', '', '', '', '\x'::bytea, false, '00000000-0000-0000-0000-000000000000',
 'infinity', '24:00:00', '00:00:00-15:59', 'infinity', 'infinity', '1 year 2 mons 3 days 04:05:06.789',
 '[]', '[]', '2001:db8::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff',
 '', '!x', '0', B'00000000', B'', '<empty/>', '(0,0)', 'empty', 'empty', 'empty', '{}',
 2147483647, 'sad', ROW(NULL, NULL, NULL)),
(3, 0, 0, 0, '-0.0', 0, '-0', '-0', 'x', 'x', 'x', '\x00'::bytea, NULL,
 'ffffffff-ffff-ffff-ffff-ffffffffffff', '4713-01-01 BC', '12:34:56.789012', '12:00+00',
 '1999-12-31 23:59:59.999999', '2024-02-29 12:00:00.123456+05:30', '-1 days +00:00:00.000001',
 '  {"spaces" :  "kept"}  ', '{"deep": [[[]]]}', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00',
 '00:00:00:00:00:00:00:00', 'x:1', 'x', '1.00', B'11111111', B'0101', 'just text', '(1e300,-1e-300)',
 '(,)', '(,)', '[1.5,1.5]', '{(,)}', 7, 'ok', ROW('', 0, ARRAY[]::text[])),
(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

INSERT INTO matrix.arrays VALUES
(1, '{1,NULL,3}', '{{1,2},{3,4}}', '{"a b","c,d","e\"f",NULL,""}', ARRAY['{"a":1}'::jsonb, 'null'],
 '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{infinity,-infinity,"2020-01-01 00:00:00+00"}',
 '{sad,happy,NULL}', ARRAY[ROW('s', 1, '{t}')::matrix.addr, NULL], '{1,2}', ROW('happy', 'NaN')),
(2, '{}', '[0:1][1:2]={{1,2},{3,4}}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', ROW(NULL, NULL)),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Values far over the TOAST threshold, one over 1 MiB.
INSERT INTO matrix.big
SELECT g, repeat(md5(g::text) || '✓', 40000 * g), decode(repeat('00ff10', 400000), 'hex')
FROM generate_series(1, 3) g;
INSERT INTO matrix.big VALUES (4, NULL, NULL);

INSERT INTO matrix.gen (a) SELECT g FROM generate_series(1, 100) g;
INSERT INTO matrix.gen (a) VALUES (NULL);
INSERT INTO matrix."Weird ""Name""" VALUES (1, 'dup'), (1, 'dup'), (NULL, NULL), (2, 'x');
INSERT INTO matrix.parted VALUES (1, 'a', 'in a'), (2, 'b', 'in default'), (3, 'a', NULL);
-- Stored in key order, so they are cut by key ranges of their own types.
INSERT INTO matrix.textkey SELECT 'key ' || g || ' é😀', g FROM generate_series(1, 60000) g ORDER BY 1;
INSERT INTO matrix.uuidkey SELECT md5(g::text)::uuid, g FROM generate_series(1, 60000) g ORDER BY 1;
-- Random uuids in insertion order: the key is scattered over the heap.
INSERT INTO matrix.scattered SELECT md5(g::text)::uuid, g FROM generate_series(1, 60000) g;
INSERT INTO matrix.nothing SELECT FROM generate_series(1, 5);
INSERT INTO matrix.only_generated DEFAULT VALUES;
INSERT INTO matrix.only_generated DEFAULT VALUES;
-- Negative keys: their text order differs from their numeric order.
INSERT INTO matrix.aliases SELECT g - 30000, repeat('o', 60), -g, g % 7 FROM generate_series(1, 60000) g;
INSERT INTO matrix.refs VALUES (1, 'matrix.scalars', ARRAY['matrix.arrays'::regclass, 'pg_class'::regclass]);
