-- city: cdp.city_key on the reference data derived from cn_cities.csv
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- the reference data: every division of the source with a romanised name
SELECT count(*) AS cities, count(DISTINCT province_code) AS provinces FROM cdp.city;
SELECT * FROM cdp.city WHERE city_code IN ('440100', '430100', '350200', '500100') ORDER BY city_code;

-- one city, every spelling: Simplified, Traditional, with and without 市,
-- pinyin in any case and spacing, initials
SELECT x AS input, cdp.city_key(x) AS city
  FROM unnest(ARRAY['广州', '廣州市', '广州市', 'Guangzhou', 'GUANGZHOU', 'guang zhou', 'Guang-Zhou',
                    'Guangzhou City', 'Guangzhou Shi', 'GZ', 'gz', 'Ｇｚ', ' 广州 ']) x;
-- initials take their first letter from the source pinyin: ICU reads 长沙
-- as "zhang sha" and 厦门 as "sha men", the source has Changsha and Xiamen
SELECT cdp.pinyin('长沙') AS icu_reading, cdp.city_key('CS') AS cs, cdp.city_key('XM') AS xm,
       cdp.city_key('cq') AS cq, cdp.city_key('Chongqing') AS chongqing;
-- collisions: an alias shared by several cities resolves to the only
-- provincial capital among them, otherwise it is ambiguous (NULL)
SELECT alias, c.name AS resolves_to, a.candidates
  FROM cdp.city_alias a LEFT JOIN cdp.city c USING (city_code)
 WHERE alias IN ('gz', 'hz', 'fuzhou', 'sz', 'suzhou', 'taizhou', '新竹', 'cs')
 ORDER BY alias;
SELECT count(*) FILTER (WHERE cardinality(candidates) > 1) AS colliding_aliases,
       count(*) FILTER (WHERE city_code IS NULL) AS ambiguous_aliases
  FROM cdp.city_alias;
SELECT cdp.city_key('SZ') AS sz, cdp.city_key('Suzhou') AS suzhou, cdp.city_key('深圳') AS shenzhen;

-- unknown input is NULL, never a guess
SELECT left(x, 12) AS input, cdp.city_key(x) IS NULL AS is_null
  FROM unnest(ARRAY['', ' ', 'Atlantis', 'guangzhoux', '广州市天河区', '广', 'G', '😀',
                    repeat('广州', 1000)]) x;
-- symbols around a name are punctuation to the matcher
SELECT cdp.city_key('广州😀') AS emoji_around, cdp.city_key('«Guangzhou»') AS quoted;
SELECT cdp.city_key(NULL) IS NULL AS null_in;
-- invalid: longer than the normalisation limit (54000)
SELECT cdp.city_key(repeat('广州', 20000));

-- users can add their own spellings; pg_dump keeps them, not the built-in ones
INSERT INTO cdp.city_alias (alias, city_code, kind) VALUES (cdp.city_alias_form('Canton'), '440100', 'custom');
SELECT cdp.city_key('Canton') AS canton;
SELECT c.oid::regclass AS config_table, e.extcondition[array_position(e.extconfig, c.oid)] AS dump_filter
  FROM pg_extension e, pg_class c
 WHERE e.extname = 'cdp' AND c.oid IN ('cdp.city'::regclass, 'cdp.city_alias'::regclass)
 ORDER BY 1;

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
