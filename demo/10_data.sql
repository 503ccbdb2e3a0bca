-- demo/10_data.sql: a realistic, deterministic year of B2B activity.
--
-- The demo company sells industrial equipment to Chinese companies.  Its CRM
-- holds :scale companies (psql variable scale: 3,000 for "make demo", 300
-- by default, which is what the test suites load), registered the Chinese
-- way (region + brand 字号 + industry + legal form) with their English names,
-- contacts, six campaigns, leads, opportunities, orders, competitor orders,
-- touchpoints and a year of lifecycle history.
--
-- The data is as messy as real sources make it:
--   - the same company enters the CRM a second (or third) time from a trade
--     show, an import or a CRM sync: under its short name (字号), in
--     Traditional characters (廣州華信機械), with its city in brackets and
--     full-width punctuation, in English or pinyin (also full-width), or with
--     a typo (有线公司 for 有限公司, a dropped letter);
--   - cities are typed as 广州 / 广州市 / 廣州 / Guangzhou / GZ;
--   - leads name their company in any of those ways, or not at all (only an
--     e-mail address), and some come from companies not in the CRM yet; the
--     lead-matching trigger (cdp.lead_match) attaches them to accounts as they
--     arrive;
--   - a few different companies share a brand (same 字号, another city and
--     industry): the matcher must keep them apart.
-- What the generator knows (which rows are the same company) is kept in
-- schema demo, outside cdp, so that demo/20_quality.sql can grade the
-- matcher; nothing in cdp reads it.
--
-- Everything happens in time order, with cdp.stage_time set to each event's
-- time: accounts and leads arrive, leads are matched against the accounts
-- that exist at that moment, and every stage change is validated by the
-- lifecycle engine exactly as an application's would be.  Dates are relative
-- to today, so the last year is always covered.  Deterministic: every
-- choice is a hash of row numbers (pg_temp.h), never random().
\set ON_ERROR_STOP 1
\if :{?scale}
\else
\set scale 300
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp CASCADE;
RESET client_min_messages;
SELECT :scale BETWEEN 50 AND 4000 AS scale_ok \gset
\if :scale_ok
\else
DO $$ BEGIN RAISE EXCEPTION 'demo/10_data.sql: the psql variable scale must be between 50 and 4000'; END $$;
\endif

-- h(x): a deterministic pseudo-random number in [0, 1) from an integer
CREATE FUNCTION pg_temp.h(x bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT (2147483647 & hashint8(x))::double precision / 2147483648 $$;

-- Reference data ----------------------------------------------------------------
-- 24 cities, how often companies come from them, and the ways people write
-- them (Traditional, pinyin, the initials a rep types; SZ is both 深圳 and
-- 苏州, so cdp.city_key cannot tell which one is meant)
CREATE TEMP TABLE demo_region (i int, weight int, zh text, zh_trad text, en text, abbr text, province text);
INSERT INTO demo_region VALUES
 (1, 8,'广州','廣州','Guangzhou','GZ','广东'), (2, 8,'深圳','深圳','Shenzhen','SZ','广东'),
 (3, 6,'东莞','東莞','Dongguan','DG','广东'), (4, 5,'佛山','佛山','Foshan','FS','广东'),
 (5, 8,'上海','上海','Shanghai','SH','上海'), (6, 6,'北京','北京','Beijing','BJ','北京'),
 (7, 6,'杭州','杭州','Hangzhou','HZ','浙江'), (8, 4,'宁波','寧波','Ningbo','NB','浙江'),
 (9, 6,'苏州','蘇州','Suzhou','SZ','江苏'), (10, 3,'无锡','無錫','Wuxi','WX','江苏'),
 (11, 4,'南京','南京','Nanjing','NJ','江苏'), (12, 4,'成都','成都','Chengdu','CD','四川'),
 (13, 3,'重庆','重慶','Chongqing','CQ','重庆'), (14, 4,'武汉','武漢','Wuhan','WH','湖北'),
 (15, 3,'长沙','長沙','Changsha','CS','湖南'), (16, 3,'西安','西安','Xi''an','XA','陕西'),
 (17, 3,'郑州','鄭州','Zhengzhou','ZZ','河南'), (18, 2,'济南','濟南','Jinan','JN','山东'),
 (19, 3,'青岛','青島','Qingdao','QD','山东'), (20, 3,'厦门','廈門','Xiamen','XM','福建'),
 (21, 2,'福州','福州','Fuzhou','FZ','福建'), (22, 3,'天津','天津','Tianjin','TJ','天津'),
 (23, 2,'合肥','合肥','Hefei','HF','安徽'), (24, 1,'昆明','昆明','Kunming','KM','云南');
ALTER TABLE demo_region ADD cum double precision;
UPDATE demo_region r SET cum = (SELECT sum(weight) FROM demo_region s WHERE s.i <= r.i)::double precision
                              / (SELECT sum(weight) FROM demo_region);

CREATE TEMP TABLE demo_industry (i int, zh text, en text, slug text, segment text);
INSERT INTO demo_industry VALUES
 (1,'机械','Machinery','machinery','big_b'), (2,'电子','Electronics','electronics','small_b'),
 (3,'科技','Technology','tech','small_b'), (4,'化工','Chemical','chem','big_b'),
 (5,'医疗器械','Medical Devices','medical','big_b'), (6,'物流','Logistics','logistics','small_b'),
 (7,'食品','Food','food','big_c'), (8,'建材','Building Materials','building','big_b'),
 (9,'汽车零部件','Auto Parts','autoparts','big_b'), (10,'纺织','Textile','textile','small_b'),
 (11,'软件','Software','soft','small_b'), (12,'连锁餐饮','Restaurant Chain','dining','small_c'),
 (13,'环保设备','Environmental Equipment','enviro','big_b'), (14,'新材料','New Materials','materials','small_b');

CREATE TEMP TABLE demo_form (i int, zh text, en text);
INSERT INTO demo_form VALUES
 (1,'有限公司','Co., Ltd.'), (2,'股份有限公司','Co., Ltd.'), (3,'集团有限公司','Group Co., Ltd.'),
 (4,'有限责任公司','Co., Ltd.'), (5,'有限公司','Co., Ltd.');

CREATE TEMP TABLE demo_rep (i int, role name);
INSERT INTO demo_rep VALUES (1,'rep_wang'), (2,'rep_li'), (3,'rep_zhang'), (4,'rep_chen'), (5,'rep_liu');

-- Simplified -> Traditional for the characters the names use (a Hong Kong or
-- Taiwan distributor's list writes them this way)
CREATE FUNCTION pg_temp.trad(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT translate(t,
  '广东宁苏汉长岛门庆无锡郑济华达丰远创联亚启万银凯阳机电医疗车纺织软连锁饮团责学业兴发国际贸实鸿顺龙宝众润诚荣网络设备环储运输药术气动仪线钢铁装饰胶农汇丽乐纳图讯绿云赢为筑经营产区县楼总厂礼义蓝欧奥骏灿腾飞鹏轩',
  '廣東寧蘇漢長島門慶無錫鄭濟華達豐遠創聯亞啟萬銀凱陽機電醫療車紡織軟連鎖飲團責學業興發國際貿實鴻順龍寶眾潤誠榮網絡設備環儲運輸藥術氣動儀線鋼鐵裝飾膠農匯麗樂納圖訊綠雲贏為築經營產區縣樓總廠禮義藍歐奧駿燦騰飛鵬軒')
$$;

-- ASCII -> full-width forms (ＨＵＡＸＩＮ　ＭＡＣＨＩＮＥＲＹ), as some input methods type them
CREATE FUNCTION pg_temp.fullwidth(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT string_agg(CASE WHEN c = ' ' THEN '　'
                       WHEN ascii(c) BETWEEN 33 AND 126 THEN chr(ascii(c) + 65248)
                       ELSE c END, '' ORDER BY k)
  FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY u(c, k)
$$;

-- Brands (字号): two characters from a pool of 93, in a hashed order; pairs
-- that spell a city are left out, and so is a brand whose pinyin another
-- brand has (华信 and 华新 are both Huaxin: an English name cannot tell them
-- apart)
CREATE TEMP TABLE demo_char AS
SELECT k::int AS i, c
  FROM unnest(string_to_array('华信恒通金达瑞丰宏远天成创新联合中科博鑫源安泰嘉禾盛世亚永东方长江海纳景正德力茂启明万和同济银河凯阳百川卓越立兴鸿顺龙宝众润诚荣佳美康富汇隆昌祥蓝光思欧普奥骏豪捷坤乾灿聚腾飞鹏尚宇轩辰朗', NULL))
       WITH ORDINALITY u(c, k);
CREATE TEMP TABLE demo_brand AS
SELECT row_number() OVER (ORDER BY o)::int AS bi, zh, en
  FROM (SELECT DISTINCT ON (en) *
          FROM (SELECT hashint8(p.k) AS o, p.zh,
                       initcap(replace(cdp.pinyin(p.zh), ' ', '')) AS en
                  FROM (SELECT a.i * 1000 + b.i AS k, a.c || b.c AS zh
                          FROM demo_char a JOIN demo_char b ON a.i <> b.i
                         ORDER BY hashint8(a.i * 1000 + b.i)
                         LIMIT 200 + :scale * 9 / 4) p
                 WHERE cdp.city_key(p.zh) IS NULL) x
         ORDER BY en, o) y;

-- Companies ---------------------------------------------------------------------
-- seq 1 .. scale are in the CRM; another 12% exist only as the senders of
-- leads (new business).  Every 25th company shares its brand with another
-- company (another city and industry): a hard negative for the matcher.
CREATE SCHEMA demo;
COMMENT ON SCHEMA demo IS 'What the demo data generator knows (which rows are the same company); read only by the demo reports, never by cdp';
CREATE TABLE demo.company (
    seq int PRIMARY KEY,
    in_crm boolean NOT NULL,
    name text NOT NULL, short_name text, brand text, brand_en text, name_en text, domain text,
    region int, industry int, form int, shares_brand_with int
);
COMMENT ON TABLE demo.company IS 'The real companies behind the demo data: seq 1..scale are in the CRM, the rest only send leads';
-- no foreign keys to cdp.account: cdp.merge_accounts re-points every foreign key it finds
CREATE TABLE demo.account_truth (account_id bigint PRIMARY KEY, seq int NOT NULL, variant text NOT NULL);
COMMENT ON TABLE demo.account_truth IS 'Which real company each cdp.account row is, and how its name was written (original, or a duplicate variant)';
CREATE TABLE demo.lead_truth (lead_id bigint PRIMARY KEY, seq int NOT NULL, written_as text NOT NULL);
COMMENT ON TABLE demo.lead_truth IS 'Which real company each demo lead came from, and how it wrote the company name';

WITH base AS (
    SELECT n AS seq, n <= :scale AS in_crm,
           (SELECT r.i FROM demo_region r WHERE r.cum > pg_temp.h(n * 7) ORDER BY r.cum LIMIT 1) AS region,
           1 + floor(pg_temp.h(n * 13) * 14)::int AS industry,
           1 + floor(pg_temp.h(n * 17) * 5)::int AS form
      FROM generate_series(1, :scale + :scale * 12 / 100) n
), shaped AS (
    SELECT b.seq, b.in_crm, b.form,
           CASE WHEN b.seq % 25 = 0 THEN 1 + (p.region + 4) % 24 ELSE b.region END AS region,
           CASE WHEN b.seq % 25 = 0 THEN 1 + (p.industry + 3) % 14 ELSE b.industry END AS industry,
           CASE WHEN b.seq % 25 = 0 THEN b.seq - 7 ELSE b.seq END AS brand_of,
           CASE WHEN b.seq % 25 = 0 THEN b.seq - 7 END AS shares_brand_with
      FROM base b LEFT JOIN base p ON p.seq = b.seq - 7
)
INSERT INTO demo.company (seq, in_crm, name, short_name, brand, brand_en, name_en, region, industry, form, shares_brand_with)
SELECT s.seq, s.in_crm,
       rg.zh || br.zh || ind.zh || fm.zh, br.zh || ind.zh, br.zh, br.en,
       rg.en || ' ' || br.en || ' ' || ind.en || ' ' || fm.en,
       s.region, s.industry, s.form, s.shares_brand_with
  FROM shaped s
  JOIN demo_brand br ON br.bi = s.brand_of
  JOIN demo_region rg ON rg.i = s.region
  JOIN demo_industry ind ON ind.i = s.industry
  JOIN demo_form fm ON fm.i = s.form;
SELECT count(*) = :scale + :scale * 12 / 100 AS companies_ok FROM demo.company \gset
\if :companies_ok
\else
DO $$ BEGIN RAISE EXCEPTION 'demo/10_data.sql: too few brands for this scale'; END $$;
\endif
-- one web domain per company: brand pinyin and industry, with the city's
-- initials when another company already has that domain
UPDATE demo.company c
   SET domain = d.domain
  FROM (SELECT c.seq,
               CASE WHEN row_number() OVER (PARTITION BY lower(c.brand_en) || '-' || ind.slug ORDER BY c.seq) = 1
                    THEN lower(c.brand_en) || '-' || ind.slug
                    ELSE lower(c.brand_en) || '-' || ind.slug || '-' || lower(rg.abbr) || c.seq END
               || CASE WHEN c.seq % 3 = 0 THEN '.com' ELSE '.com.cn' END AS domain
          FROM demo.company c
          JOIN demo_industry ind ON ind.i = c.industry
          JOIN demo_region rg ON rg.i = c.region) d
 WHERE d.seq = c.seq;

-- Campaigns -------------------------------------------------------------------
INSERT INTO cdp.campaign (name, channel, started_on, ended_on, budget, cost, owner)
SELECT c.name, c.channel, current_date - c.start_ago, current_date - c.end_ago,
       c.budget * :scale / 300, c.cost * :scale / 300, 'marketing'
  FROM (VALUES
    ('广交会 Canton Fair booth', 'event', 330, 320, 300000, 286000),
    ('百度搜索推广 Baidu search ads', 'search_ads', 360, 0, 240000, 221500),
    ('微信公众号内容营销 WeChat articles', 'wechat', 300, 0, 80000, 64200),
    ('行业白皮书下载 Industry whitepaper', 'content', 250, 120, 50000, 41800),
    ('线上研讨会 Webinar series', 'webinar', 200, 30, 60000, 52300),
    ('老客户转介绍 Referral programme', 'referral', 365, 0, 40000, 18600)
  ) AS c(name, channel, start_ago, end_ago, budget, cost);

-- Account rows: the originals ----------------------------------------------------
-- 40% came with the CRM import a year ago, the rest were added over the year.
-- The city is typed as a rep types it.
CREATE TEMP TABLE demo_account_row AS
SELECT c.seq, 'original'::text AS variant,
       c.name, c.short_name, c.name_en, c.domain,
       CASE floor(pg_temp.h(c.seq * 3) * 6)::int
            WHEN 0 THEN rg.zh || '市' WHEN 1 THEN rg.en WHEN 2 THEN rg.abbr ELSE rg.zh END AS city,
       rg.province, ind.zh AS industry, ind.segment,
       CASE WHEN pg_temp.h(c.seq * 5) < 0.10 THEN 'key'
            WHEN pg_temp.h(c.seq * 5) < 0.75 THEN 'standard' ELSE 'long_tail' END AS tier,
       20 + floor(pg_temp.h(c.seq * 11) ^ 2 * 5000)::int AS employees,
       (1 + floor(pg_temp.h(c.seq * 19) ^ 2 * 800)) * 1000000 AS annual_revenue,
       CASE WHEN pg_temp.h(c.seq * 23) < 0.4 THEN 'crm_sync'
            ELSE (ARRAY['trade_show', 'web', 'import', 'referral'])[1 + floor(pg_temp.h(c.seq * 29) * 4)::int] END AS source,
       CASE WHEN pg_temp.h(c.seq * 23) < 0.4
            THEN now() - make_interval(days => 364, mins => c.seq)
            ELSE now() - make_interval(days => 363 - floor(pg_temp.h(c.seq * 31) * 350)::int,
                                       hours => floor(pg_temp.h(c.seq * 37) * 10)::int) END AS created_at
  FROM demo.company c
  JOIN demo_region rg ON rg.i = c.region
  JOIN demo_industry ind ON ind.i = c.industry
 WHERE c.in_crm;

-- Account rows: duplicates, as other sources bring the same company again.
-- 12% of the companies come in a second time, 3% a third time.
INSERT INTO demo_account_row
SELECT c.seq, v.variant, v.name, NULL, v.name_en, v.domain, v.city, rg.province, NULL, NULL, 'standard',
       NULL, NULL, v.source, o.created_at + (now() - o.created_at) * (0.05 + 0.9 * pg_temp.h(c.seq * 41 + k))
  FROM demo.company c
  JOIN demo_account_row o ON o.seq = c.seq
  JOIN demo_region rg ON rg.i = c.region
  JOIN demo_industry ind ON ind.i = c.industry
  JOIN demo_form fm ON fm.i = c.form
 CROSS JOIN generate_series(1, 2) k
 CROSS JOIN LATERAL (
    SELECT x.* FROM (VALUES
      -- trade-show badge scan: the short name (字号) only
      (0, 'short name', c.short_name, NULL, NULL, rg.zh, 'trade_show'),
      -- a Hong Kong distributor's list, in Traditional characters
      (1, 'traditional', pg_temp.trad(c.name), NULL, NULL, rg.zh_trad, 'import'),
      -- the city in full-width brackets after the brand, 市 added
      (2, 'city in brackets', c.short_name || '（' || rg.zh || '）' || fm.zh, NULL, NULL, rg.zh || '市', 'import'),
      -- the English name in capitals, from the ERP, with the web domain
      (3, 'English', upper(replace(c.name_en, '.', '')), c.name_en, c.domain, rg.en, 'crm_sync'),
      -- full-width Latin letters, typed with a Chinese input method
      (4, 'full-width English', pg_temp.fullwidth(c.brand_en || ' ' || ind.en), NULL, NULL, rg.abbr, 'web'),
      -- a typo: 有线 for 有限, or a dropped letter in the pinyin
      (5, 'typo', CASE WHEN c.seq % 2 = 0 THEN rg.zh || c.short_name || replace(fm.zh, '有限', '有线')
                       ELSE rg.en || ' ' || left(c.brand_en, -1) || ' ' || ind.en || ' ' || fm.en END,
          NULL, NULL, rg.zh, 'web'),
      -- pinyin of the short name, lower case
      (6, 'pinyin', lower(c.brand_en) || ' ' || replace(cdp.pinyin(ind.zh), ' ', ''), NULL, NULL, lower(rg.en), 'web')
    ) x(n, variant, name, name_en, domain, city, source)
    WHERE x.n = floor(pg_temp.h(c.seq * 43 + k * 7) * 7)::int) v
 WHERE (k = 1 AND pg_temp.h(c.seq * 47) < 0.12) OR (k = 2 AND pg_temp.h(c.seq * 47) < 0.03);

-- Account ids: the companies in the CRM are accounts 1 .. scale, in the
-- order they were created; the duplicate rows come after them, in the order
-- they arrived.  (So the oldest row of a company has the lowest id, and
-- scripts that pick accounts 1 .. 300 find them after the merges.)
ALTER TABLE demo_account_row ADD id bigint;
UPDATE demo_account_row r
   SET id = x.id
  FROM (SELECT ctid AS rid,
               CASE WHEN variant = 'original' THEN 0 ELSE :scale END
               + row_number() OVER (PARTITION BY variant = 'original' ORDER BY created_at, seq, variant) AS id
          FROM demo_account_row) x
 WHERE r.ctid = x.rid;

-- Leads: 1.2 per company over the year, with a peak at the Canton Fair ---------------
-- 85% from companies in the CRM, 15% from companies that are not.  The company
-- name is written the way people fill in forms; some give only an e-mail.
CREATE TEMP TABLE demo_lead_row AS
WITH l0 AS (
    SELECT n,
           CASE WHEN pg_temp.h(n * 53) < 0.85
                THEN 1 + floor(pg_temp.h(n * 59) * :scale)::int
                ELSE :scale + 1 + floor(pg_temp.h(n * 59) * (:scale * 12 / 100))::int END AS seq,
           floor(pg_temp.h(n * 61) * 100)::int AS how,
           1 + floor(pg_temp.h(n * 67) * 6)::int AS campaign_id,
           CASE WHEN pg_temp.h(n * 71) < 0.15
                THEN now() - make_interval(days => 330 - floor(pg_temp.h(n * 73) * 10)::int)
                ELSE now() - make_interval(days => 360 - floor(pg_temp.h(n * 73) * 358)::int,
                                           hours => floor(pg_temp.h(n * 79) * 12)::int) END AS at
      FROM generate_series(1, :scale * 6 / 5) n
), l AS (
    -- a company in the CRM writes in after its account was created
    SELECT l0.*, CASE WHEN l0.at >= o.created_at OR o.created_at IS NULL THEN l0.at
                      ELSE o.created_at + (now() - o.created_at) * (0.02 + 0.96 * pg_temp.h(l0.n * 103)) END AS created_at
      FROM l0 LEFT JOIN demo_account_row o ON o.seq = l0.seq AND o.variant = 'original'
)
SELECT l.n, l.seq,
       CASE WHEN l.how < 35 THEN 'registered name' WHEN l.how < 55 THEN 'short name'
            WHEN l.how < 63 THEN 'traditional' WHEN l.how < 73 THEN 'English'
            WHEN l.how < 78 THEN 'city in brackets' WHEN l.how < 83 THEN 'typo'
            WHEN l.how < 90 THEN 'e-mail only' ELSE 'brand only' END AS written_as,
       CASE WHEN l.how < 35 THEN c.name
            WHEN l.how < 55 THEN c.short_name
            WHEN l.how < 63 THEN pg_temp.trad(c.short_name)
            WHEN l.how < 73 THEN c.name_en
            WHEN l.how < 78 THEN c.short_name || '(' || rg.zh || ')'
            WHEN l.how < 83 THEN rg.zh || c.short_name || '有线公司'
            WHEN l.how < 90 THEN NULL
            ELSE c.brand END AS company_name,
       p.family || p.given AS contact_name,
       (ARRAY['采购经理', '技术总监', '总经理', '设备主管', 'Purchasing manager'])[1 + l.n % 5] AS title,
       -- a work address at the company's domain, or a free-mail address
       CASE WHEN l.how >= 83 AND l.how < 90 OR pg_temp.h(l.n * 83) < 0.55
            THEN replace(p.py, ' ', '.') || '@' || c.domain
            ELSE replace(p.py, ' ', '') || (l.n % 97) || '@' || (ARRAY['qq.com', '163.com', '126.com'])[1 + l.n % 3] END AS email,
       '13' || lpad(floor(pg_temp.h(l.n * 89) * 1e9)::bigint::text, 9, '0') AS phone,
       CASE l.n % 4 WHEN 0 THEN rg.zh WHEN 1 THEN rg.en WHEN 2 THEN rg.abbr ELSE NULL END AS city,
       CASE WHEN cp.channel = 'event' THEN 'trade_show' WHEN cp.channel = 'referral' THEN 'referral'
            ELSE (ARRAY['web_form', 'web_form', 'phone_in', 'import'])[1 + l.n % 4] END AS source,
       cp.channel, cp.campaign_id, l.created_at
  FROM l
  JOIN demo.company c ON c.seq = l.seq
  JOIN demo_region rg ON rg.i = c.region
  JOIN cdp.campaign cp ON cp.campaign_id = l.campaign_id
 CROSS JOIN LATERAL (
    SELECT f.family, g.given, cdp.pinyin(f.family || g.given) AS py
      FROM (SELECT (ARRAY['王','李','张','刘','陈','杨','黄','赵','周','吴','徐','孙','马','朱','胡','郭'])[1 + floor(pg_temp.h(l.n * 97) * 16)::int] AS family) f,
           (SELECT (ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇','艳','杰','娟','涛','明','超'])[1 + floor(pg_temp.h(l.n * 101) * 16)::int] AS given) g) p;

-- Replay the arrivals in time order ---------------------------------------------
-- Each account and each lead is inserted at its own time (cdp.stage_time):
-- its first stay begins then, and a lead is matched against the accounts that
-- exist at that moment, by the lead_match trigger.
DO $$
DECLARE
    e record;
    id bigint;
BEGIN
    FOR e IN SELECT 'account' AS kind, a.created_at AS t, a.seq, a.variant AS how, a.id AS rid, NULL::int AS n
               FROM demo_account_row a
             UNION ALL
             SELECT 'lead', l.created_at, l.seq, l.written_as, NULL, l.n
               FROM demo_lead_row l
             ORDER BY 2, 1, 3, 4
    LOOP
        PERFORM set_config('cdp.stage_time', e.t::text, true);
        IF e.kind = 'account' THEN
            INSERT INTO cdp.account (account_id, name, short_name, name_en, domain, city, province, industry, segment,
                                     tier, employees, annual_revenue, source, created_at)
            OVERRIDING SYSTEM VALUE
            SELECT r.id, r.name, r.short_name, r.name_en, r.domain, r.city, r.province, r.industry, r.segment,
                   r.tier, r.employees, r.annual_revenue, r.source, r.created_at
              FROM demo_account_row r WHERE r.id = e.rid
            RETURNING account_id INTO id;
            INSERT INTO demo.account_truth VALUES (id, e.seq, e.how);
        ELSE
            INSERT INTO cdp.lead (company_name, contact_name, title, email, phone, city, source, channel,
                                  campaign_id, created_at)
            SELECT r.company_name, r.contact_name, r.title, r.email, r.phone, r.city, r.source, r.channel,
                   r.campaign_id, r.created_at
              FROM demo_lead_row r WHERE r.n = e.n
            RETURNING lead_id INTO id;
            INSERT INTO demo.lead_truth VALUES (id, e.seq, e.how);
        END IF;
    END LOOP;
    PERFORM set_config('cdp.stage_time', '', true);
    PERFORM setval(pg_get_serial_sequence('cdp.account', 'account_id'), (SELECT max(account_id) FROM cdp.account));
END
$$;

-- Contacts: two to five per account, with a place in the decision chain;
-- a duplicate row brought at most the one person it was scanned or imported with
INSERT INTO cdp.contact (account_id, name, title, department, email, phone, decision_role,
                         verified, owner, created_at)
SELECT a.account_id, p.family || p.given, t.title, t.department,
       replace(cdp.pinyin(p.family || p.given), ' ', '.') || CASE WHEN k > 1 THEN k::text ELSE '' END
         || '@' || coalesce(a.domain, c.domain),
       '13' || lpad(floor(pg_temp.h(a.account_id * 41 + k) * 1e9)::bigint::text, 9, '0'),
       t.role, pg_temp.h(a.account_id * 7 + k) < 0.6, NULL,
       a.created_at + make_interval(days => k * 3)
  FROM cdp.account a
  JOIN demo.account_truth tr ON tr.account_id = a.account_id
  JOIN demo.company c ON c.seq = tr.seq
 CROSS JOIN LATERAL generate_series(1, CASE WHEN tr.variant = 'original' THEN 2 + floor(pg_temp.h(a.account_id * 43) * 4)::int
                                            WHEN pg_temp.h(a.account_id * 43) < 0.5 THEN 1 ELSE 0 END) g(k)
 CROSS JOIN LATERAL (
    SELECT (ARRAY['王','李','张','刘','陈','杨','黄','赵','周','吴','徐','孙','马','朱','胡','郭'])[1 + floor(pg_temp.h(a.account_id * 31 + k) * 16)::int] AS family,
           (ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇','艳','杰','娟','涛','明','超'])[1 + floor(pg_temp.h(a.account_id * 37 + k) * 16)::int] AS given) p
  JOIN (VALUES (1, '总经理 General manager', '总经办', 'decision_maker'),
               (2, '采购经理 Purchasing manager', '采购部', 'procurement'),
               (3, '技术总监 Technical director', '技术部', 'it'),
               (4, '财务经理 Finance manager', '财务部', 'finance'),
               (5, '生产主管 Production supervisor', '生产部', 'user'))
       AS t(n, title, department, role)
    ON t.n = CASE WHEN tr.variant = 'original' THEN k ELSE 2 END
 ORDER BY a.account_id, k;

-- Replay a year of lifecycle moves -----------------------------------------------
-- Each account walks forward along its model with a chance to stop at every
-- stage and a chance to drop out; the time between moves is 2 to 40 days.
-- Every move goes through the lifecycle trigger, at cdp.stage_time, and
-- leaves the touchpoint that caused it.  Duplicate rows stay where they
-- arrived: nobody works on them.
DO $$
DECLARE
    acc record;
    ld record;
    path text[] := ARRAY['lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate'];
    keep real[] := ARRAY[0.80, 0.65, 0.70, 0.75, 0.55, 0.25];
    touch text[] := ARRAY['form_submit', 'webinar', 'call', 'meeting', 'meeting', 'event'];
    chan text[] := ARRAY['web', 'web', 'phone', 'visit', 'visit', 'event'];
    t timestamptz;
    i int;
    rep name;
    opp bigint;
    amt numeric;
    dm bigint;
BEGIN
    FOR acc IN SELECT a.* FROM cdp.account a JOIN demo.account_truth tr USING (account_id)
                WHERE tr.variant = 'original' ORDER BY a.account_id LOOP
        t := acc.created_at;
        rep := (SELECT r.role FROM demo_rep r WHERE r.i = 1 + acc.account_id % 5);
        dm := (SELECT min(contact_id) FROM cdp.contact WHERE account_id = acc.account_id);
        FOR i IN 1 .. array_length(path, 1) LOOP
            EXIT WHEN pg_temp.h(acc.account_id * 100 + i * 10 + 1) > keep[i] * CASE WHEN acc.tier = 'key' AND i <= 4 THEN 1.15 ELSE 1 END;
            t := t + make_interval(days => 2 + floor(pg_temp.h(acc.account_id * 100 + i * 10 + 2) * 38)::int, hours => floor(pg_temp.h(acc.account_id * 100 + i * 10 + 3) * 9)::int);
            EXIT WHEN t > now();
            IF path[i] = 'customer' THEN
                -- the deal is won a few days after its last pipeline move
                t := greatest(t, (SELECT max(h.entered_at) + interval '3 days' FROM cdp.stage_history h
                                   WHERE h.entity = 'cdp.opportunity'::regclass
                                     AND h.entity_key = (SELECT max(opportunity_id)::text FROM cdp.opportunity
                                                          WHERE account_id = acc.account_id)));
                EXIT WHEN t > now();
            END IF;
            -- what made the account move, a day before
            INSERT INTO cdp.touchpoint (account_id, contact_id, campaign_id, channel, direction, kind, outcome,
                                        points, cost, occurred_at, owner)
            VALUES (acc.account_id, dm, 1 + floor(pg_temp.h(acc.account_id * 100 + i * 10 + 4) * 6)::int, chan[i],
                    CASE WHEN i <= 2 THEN 'inbound' ELSE 'outbound' END, touch[i],
                    CASE WHEN chan[i] = 'phone' THEN 'connected' END,
                    (ARRAY[15, 10, 5, 20, 20, 10])[i], (ARRAY[0, 20, 8, 600, 600, 150])[i],
                    t - interval '1 day', CASE WHEN i >= 3 THEN rep END);
            PERFORM set_config('cdp.stage_time', t::text, true);
            IF path[i] IN ('sql', 'opportunity', 'customer') THEN
                UPDATE cdp.account SET stage = path[i], owner = coalesce(owner, rep) WHERE account_id = acc.account_id;
            ELSE
                UPDATE cdp.account SET stage = path[i] WHERE account_id = acc.account_id;
            END IF;

            IF path[i] = 'opportunity' THEN
                -- the 商机 itself, with its own pipeline
                amt := (5 + floor(pg_temp.h(acc.account_id * 100 + i * 10 + 5) * 95)) * 10000 * CASE WHEN acc.tier = 'key' THEN 3 ELSE 1 END;
                INSERT INTO cdp.opportunity (account_id, name, amount, expected_close, competitor, owner, source, created_at)
                VALUES (acc.account_id, coalesce(acc.short_name, acc.name) || ' 设备采购项目', amt, (t + interval '60 days')::date,
                        (ARRAY[NULL, '西门子 Siemens', '汇川 Inovance', 'ABB', NULL])[1 + floor(pg_temp.h(acc.account_id * 100 + i * 10 + 6) * 5)::int],
                        rep, 'inbound', t)
                RETURNING opportunity_id INTO opp;
                PERFORM set_config('cdp.stage_time', (t + interval '5 days')::text, true);
                UPDATE cdp.opportunity SET stage = 'qualification' WHERE opportunity_id = opp;
                PERFORM set_config('cdp.stage_time', (t + interval '15 days')::text, true);
                UPDATE cdp.opportunity SET stage = 'proposal' WHERE opportunity_id = opp;
                IF pg_temp.h(acc.account_id * 100 + i * 10 + 7) < 0.75 THEN
                    PERFORM set_config('cdp.stage_time', (t + interval '25 days')::text, true);
                    UPDATE cdp.opportunity SET stage = 'negotiation' WHERE opportunity_id = opp;
                END IF;
            ELSIF path[i] = 'customer' THEN
                opp := (SELECT max(opportunity_id) FROM cdp.opportunity WHERE account_id = acc.account_id);
                UPDATE cdp.opportunity SET stage = 'won', closed_at = t WHERE opportunity_id = opp;
                INSERT INTO cdp."order" (account_id, opportunity_id, ordered_at, product, quantity, amount, cost, owner)
                SELECT acc.account_id, opp, t + make_interval(days => 30 * k),
                       (ARRAY['数控机床 CNC machine', '工业机器人 Industrial robot', '备件 Spare parts', '维保服务 Service contract'])[1 + k % 4],
                       1 + k, o.amount / (1 + k), o.amount / (1 + k) * 0.7, rep
                  FROM cdp.opportunity o, generate_series(0, floor(pg_temp.h(acc.account_id * 100 + i * 10 + 8) * 4)::int) k
                 WHERE o.opportunity_id = opp AND t + make_interval(days => 30 * k) < now();
            END IF;
        END LOOP;

        -- some drop out of the funnel: lost on price, or churned
        IF pg_temp.h(acc.account_id * 100 + 99) < 0.11 THEN
            t := greatest(t, (SELECT max(h.entered_at) FROM cdp.stage_history h
                               WHERE h.entity = 'cdp.opportunity'::regclass
                                 AND h.entity_key IN (SELECT opportunity_id::text FROM cdp.opportunity
                                                       WHERE account_id = acc.account_id))) + interval '20 days';
            IF t < now() THEN
                PERFORM set_config('cdp.stage_time', t::text, true);
                UPDATE cdp.account
                   SET stage = CASE WHEN stage IN ('customer', 'advocate') THEN 'churned' ELSE 'disqualified' END
                 WHERE account_id = acc.account_id;
                UPDATE cdp.opportunity SET stage = 'lost', lost_reason = '价格 price', closed_at = t
                 WHERE account_id = acc.account_id AND stage NOT IN ('won', 'lost');
            END IF;
        END IF;
    END LOOP;

    -- leads: qualified by marketing, accepted or rejected by sales
    FOR ld IN SELECT * FROM cdp.lead ORDER BY lead_id LOOP
        t := ld.created_at;
        rep := (SELECT r.role FROM demo_rep r WHERE r.i = 1 + ld.lead_id % 5);
        FOR i IN 2 .. 4 LOOP
            EXIT WHEN pg_temp.h(ld.lead_id * 100 + i * 10 + 1) > keep[i - 1];
            t := t + make_interval(days => 1 + floor(pg_temp.h(ld.lead_id * 100 + i * 10 + 2) * 20)::int);
            EXIT WHEN t > now();
            PERFORM set_config('cdp.stage_time', t::text, true);
            UPDATE cdp.lead SET stage = path[i], owner = CASE WHEN i >= 3 THEN rep END,
                                converted_at = CASE WHEN path[i] = 'opportunity' THEN t END
             WHERE lead_id = ld.lead_id;
        END LOOP;
        -- sales sends some SQLs back to marketing: a backward move, with a reason
        IF ld.lead_id % 10 = 3 AND t + interval '4 days' < now()
           AND (SELECT stage FROM cdp.lead WHERE lead_id = ld.lead_id) = 'sql' THEN
            t := t + interval '4 days';
            PERFORM set_config('cdp.stage_time', t::text, true);
            PERFORM cdp.set_stage('cdp.lead', ld.lead_id::text, 'mql', '销售退回：采购时间未定 timing unclear');
        END IF;
        IF ld.lead_id % 7 = 0 AND t + interval '10 days' < now() THEN
            PERFORM set_config('cdp.stage_time', (t + interval '10 days')::text, true);
            UPDATE cdp.lead SET stage = 'disqualified', disqualified_reason = '无预算 no budget'
             WHERE lead_id = ld.lead_id AND converted_at IS NULL;
        END IF;
    END LOOP;
    PERFORM set_config('cdp.stage_time', '', true);
END
$$;

-- Background touchpoints: about four per contact over the year ------------------------
INSERT INTO cdp.touchpoint (account_id, contact_id, lead_id, campaign_id, channel, direction, kind,
                            outcome, points, cost, occurred_at, owner)
SELECT c.account_id, c.contact_id, NULL, 1 + floor(pg_temp.h(c.contact_id * 59 + k) * 6)::int,
       ch.channel, ch.direction, ch.kind,
       CASE WHEN ch.channel = 'phone' THEN (ARRAY['connected', 'no_answer', 'busy', 'connected', 'wrong_number'])[1 + floor(pg_temp.h(c.contact_id * 5 + k) * 5)::int]
            WHEN ch.channel = 'email' THEN (ARRAY['delivered', 'opened', 'replied', 'bounced'])[1 + floor(pg_temp.h(c.contact_id * 5 + k) * 4)::int]
       END,
       ch.points, ch.cost,
       greatest(c.created_at, now() - make_interval(days => floor(pg_temp.h(c.contact_id * 61 + k) * 365)::int,
                                                    hours => floor(pg_temp.h(k) * 10)::int)),
       a.owner
  FROM cdp.contact c
  JOIN cdp.account a ON a.account_id = c.account_id
 CROSS JOIN generate_series(1, 4) k
  JOIN (VALUES (0, 'phone', 'outbound', 'call', 5.0, 8.00),
               (1, 'email', 'outbound', 'email_sent', 1.0, 0.20),
               (2, 'web', 'inbound', 'site_visit', 2.0, 0.00),
               (3, 'wechat', 'inbound', 'article_read', 1.5, 0.00),
               (4, 'web', 'inbound', 'site_visit', 2.0, 0.00),
               (5, 'event', 'inbound', 'booth_scan', 10.0, 150.00),
               (6, 'email', 'outbound', 'email_sent', 1.0, 0.20))
       AS ch(n, channel, direction, kind, points, cost)
    ON ch.n = floor(pg_temp.h(c.contact_id * 67 + k) * 7)::int
 ORDER BY c.contact_id, k;

-- every lead submitted a form (or was scanned at the booth)
INSERT INTO cdp.touchpoint (lead_id, account_id, campaign_id, channel, direction, kind, points, cost, occurred_at)
SELECT l.lead_id, l.account_id, l.campaign_id, coalesce(l.channel, 'web'), 'inbound',
       CASE WHEN l.channel = 'event' THEN 'booth_scan' ELSE 'form_submit' END, 15, 35, l.created_at
  FROM cdp.lead l ORDER BY l.lead_id;

-- Competitor orders and CDP sheets ----------------------------------------------------
INSERT INTO cdp.competitor_order (account_id, competitor, ordered_at, product, amount, source)
SELECT a.account_id, (ARRAY['西门子 Siemens', '汇川 Inovance', 'ABB', '发那科 FANUC'])[1 + k % 4],
       current_date - floor(pg_temp.h(a.account_id * 71 + k) * 700)::int,
       '数控机床 CNC machine', (10 + floor(pg_temp.h(a.account_id + k) * 90)) * 10000, 'customer'
  FROM cdp.account a JOIN demo.account_truth tr ON tr.account_id = a.account_id AND tr.variant = 'original',
       generate_series(1, 2) k
 WHERE a.account_id % 4 = 0;

-- sales fills in the CDP sheet (客户开发信息表) for key accounts and a third of
-- the others: the basics mostly, the development strategy (关键人, 行动计划)
-- mostly for accounts sales is working on (SQL and later)
INSERT INTO cdp.account_profile (account_id, legal_representative, org_structure, decision_process, scale,
                                 development_plan, pain_points, service_fit, key_people, key_person_actions,
                                 action_plan, profit_level, acquisition_cost, equipment_budget,
                                 annual_purchase_volume, current_supplier)
SELECT a.account_id,
       CASE WHEN pg_temp.h(a.account_id * 2) < 0.5 + w THEN (SELECT name FROM cdp.contact c WHERE c.account_id = a.account_id
                                                              ORDER BY contact_id LIMIT 1) || '（总经理）' END,
       '总经理下设生产、技术、采购、财务四部门', '技术部提需求，总经理审批，采购执行',
       a.employees || ' 人，2 个生产基地', '三年内产能翻倍',
       CASE WHEN pg_temp.h(a.account_id * 3) < 0.7 + w THEN '设备老化，停机损失大' END,
       CASE WHEN pg_temp.h(a.account_id * 5) < 0.4 + w THEN '数控改造方案匹配' END,
       CASE WHEN pg_temp.h(a.account_id * 7) < 0.3 + w THEN '总经理、技术总监' END,
       CASE WHEN pg_temp.h(a.account_id * 17) < 0.2 + w THEN '技术总监：安排工厂参观；总经理：季度高层拜访' END,
       CASE WHEN pg_temp.h(a.account_id * 11) < 0.3 + w THEN '季度拜访 + 技术交流会' END,
       (ARRAY['low', 'medium', 'high'])[1 + a.account_id % 3],
       5000 + a.account_id * 10, a.annual_revenue * 0.02,
       CASE WHEN pg_temp.h(a.account_id * 13) < 0.6 + w THEN a.annual_revenue * 0.05 END,
       CASE WHEN pg_temp.h(a.account_id * 19) < 0.6 + w THEN (ARRAY['西门子 Siemens', '汇川 Inovance', 'ABB'])[1 + a.account_id % 3] END
  FROM cdp.account a JOIN demo.account_truth tr ON tr.account_id = a.account_id AND tr.variant = 'original'
 CROSS JOIN LATERAL (SELECT CASE WHEN a.stage IN ('sql', 'opportunity', 'customer', 'advocate') THEN 0.35 ELSE 0 END AS w) x
 WHERE a.tier = 'key' OR a.account_id % 3 = 0;

INSERT INTO cdp.city_market (city, market, business_scale, similar_customers, total_volume, transaction_volume, maturity)
SELECT rg.zh, 'all', (5 + rg.weight) * 100000000::numeric * :scale / 300, (20 + rg.weight * 7) * :scale / 300,
       (2 + rg.weight) * 50000000::numeric * :scale / 300, (1 + rg.weight) * 8000000::numeric * :scale / 300,
       (ARRAY['emerging', 'growing', 'mature', 'saturated'])[1 + rg.i % 4]
  FROM demo_region rg;

ANALYZE cdp.account, cdp.contact, cdp.lead, cdp.lead_match, cdp.opportunity, cdp."order", cdp.touchpoint,
        cdp.stage_history, cdp.account_profile, cdp.competitor_order, demo.company, demo.account_truth, demo.lead_truth;
\echo
\echo '== The demo data set: a year of B2B activity (deterministic; dates relative to today)'
\echo '   Rows per table, as loaded.  "duplicate rows" are accounts that another source'
\echo '   brought in again under another spelling; demo/20_quality.sql finds and merges them.'
SELECT (SELECT count(*) FROM demo.company WHERE in_crm) AS companies,
       (SELECT count(*) FROM cdp.account) AS account_rows,
       (SELECT count(*) FROM demo.account_truth WHERE variant <> 'original') AS duplicate_rows,
       (SELECT count(*) FROM cdp.contact) AS contacts,
       (SELECT count(*) FROM cdp.lead) AS leads,
       (SELECT count(*) FROM cdp.opportunity) AS opportunities,
       (SELECT count(*) FROM cdp."order") AS orders,
       (SELECT count(*) FROM cdp.touchpoint) AS touchpoints,
       (SELECT count(*) FROM cdp.stage_history) AS stage_moves \gx
