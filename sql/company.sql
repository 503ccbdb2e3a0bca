-- company: company_key, company_similarity, company_match and the
-- cdp.company_match_threshold setting
SET client_min_messages = warning;
CREATE EXTENSION cdp CASCADE;
RESET client_min_messages;

-- keys: width, case, Traditional, punctuation, spacing, brackets and legal
-- forms neutralised
SELECT n, cdp.company_key(n) AS key
  FROM unnest(ARRAY[
    '贵州茅台酒股份有限公司', '貴州茅台酒股份有限公司', '贵州茅台酒（集团）有限责任公司',
    '华为技术（深圳）有限公司', '【北京】百度网讯科技有限公司',
    'KWEICHOW MOUTAI CO.,LTD', 'Kweichow Moutai Co., Ltd.', 'kweichow  moutai company limited',
    'ＫＷＥＩＣＨＯＷ ＭＯＵＴＡＩ ＣＯ．，ＬＴＤ．', 'Bridgestone (Shenyang) Tire Co., Ltd.',
    'Siemens AG', 'BASF SE', 'Pirelli Neumaticos S.A.I.C.', 'Acme GmbH & Co. KG',
    'McDonald''s Corporation', 'TCL科技集团股份有限公司', 'Company Limited', '有限公司'
  ]) AS n;

-- nothing identifying left: NULL, never an empty key
SELECT cdp.company_key('') IS NULL AS empty, cdp.company_key('  ,.;!  ') IS NULL AS punctuation,
       cdp.company_key('😀🎉') IS NULL AS emoji, cdp.company_key('（）') IS NULL AS brackets,
       cdp.company_key(NULL) IS NULL AS null_in;
-- emoji and mixed scripts: symbols dropped, letters of any script kept
SELECT cdp.company_key('😀 茅台 🍶 Moutai Ｃａｆé Москва ООО') AS mixed;
-- a name only in brackets keeps its words
SELECT cdp.company_key('(中国银行)') AS bracketed_only;
-- unbalanced bracket: treated as punctuation
SELECT cdp.company_key('Bridgestone(Shenyang Tire Co.') AS unbalanced;

-- invalid: a name over 1024 bytes is refused (54000)
SELECT cdp.company_key(repeat('茅台', 200));
SELECT cdp.company_similarity('茅台', repeat('x', 2000));
-- exactly 1024 bytes is accepted
SELECT length(cdp.company_key(repeat('a', 1024))) AS at_limit;

-- the pairs that must match
SELECT a, b, round(cdp.company_similarity(a, b)::numeric, 3) AS similarity, cdp.company_match(a, b) AS match
  FROM (VALUES
    ('贵州茅台酒股份有限公司', '贵州茅台'),
    ('贵州茅台酒股份有限公司', '貴州茅台'),
    ('贵州茅台酒股份有限公司', '貴州茅台酒股份有限公司'),
    ('ＴＣＬ科技集团股份有限公司', 'TCL科技集团股份有限公司'),
    ('Kweichow Moutai Co., Ltd.', 'KWEICHOW MOUTAI COMPANY LIMITED'),
    ('Acme Co., Ltd.', 'ACME CO.,LTD'),
    ('Acme Company Limited', 'acme   corporation'),
    ('平安银行股份有限公司', '平安银行有限公司'),
    ('珠海格力电器股份有限公司', '格力电器'),
    ('上海浦东发展银行股份有限公司', '浦发银行'),
    ('中国石油化工股份有限公司', '中国石化'),
    ('华为技术（深圳）有限公司', '华为技术有限公司'),
    ('贵州茅台酒股份有限公司', 'Maotai'),
    ('贵州茅台酒股份有限公司', 'Guizhou Maotai'),
    ('北京百度网讯科技有限公司', 'Baidu'),
    ('Bridgestone (Shenyang) Tire Co., Ltd.', 'bridgestone tire')
  ) v(a, b);

-- the pairs that must not match: different companies sharing a region, an
-- industry word and a legal form
SELECT a, b, round(cdp.company_similarity(a, b)::numeric, 3) AS similarity, cdp.company_match(a, b) AS match
  FROM (VALUES
    ('中国银行', '中国建设银行'),
    ('中国银行股份有限公司', '中国建设银行股份有限公司'),
    ('北京百度网讯科技有限公司', '北京字节跳动科技有限公司'),
    ('上海银行股份有限公司', '上海农村商业银行股份有限公司'),
    ('华夏银行', '华夏幸福基业股份有限公司'),
    ('广州白云电器设备股份有限公司', '广州白云山医药集团股份有限公司'),
    ('深圳市腾讯计算机系统有限公司', '深圳市华为技术有限公司'),
    ('Acme Trading Co., Ltd.', 'Apex Trading Co., Ltd.'),
    ('Shanghai Electric Group', 'Shanghai Pharmaceuticals Holding'),
    ('贵州茅台酒股份有限公司', 'Wuliangye')
  ) v(a, b);

-- symmetric, in [0, 1], 1 for identical keys, over a mixed set of names
WITH n AS (SELECT unnest(ARRAY['贵州茅台酒股份有限公司', '貴州茅台', '茅台', 'Maotai', 'guizhou maotai',
             '中国银行', '中国建设银行股份有限公司', 'Bank of China Limited', 'TCL科技', 'tcl',
             'Bridgestone Tire', 'bridgestone (shenyang) tire co.', '😀', 'x', '北京', '有限公司']) AS name)
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE cdp.company_similarity(a.name, b.name) <> cdp.company_similarity(b.name, a.name)) AS asymmetric,
       count(*) FILTER (WHERE cdp.company_similarity(a.name, b.name) NOT BETWEEN 0 AND 1) AS out_of_range,
       count(*) FILTER (WHERE cdp.company_key(a.name) = cdp.company_key(b.name)
                          AND cdp.company_similarity(a.name, b.name) <> 1) AS equal_keys_not_1
  FROM n a, n b;

-- a NULL key scores 0 against anything, itself included
SELECT cdp.company_similarity('😀', '😀') AS emoji_pair, cdp.company_similarity('', '茅台') AS empty;
-- NULL in, NULL out
SELECT cdp.company_similarity(NULL, '茅台') IS NULL AS s_null, cdp.company_match('茅台', NULL) IS NULL AS m_null;

-- the threshold decides company_match
SHOW cdp.company_match_threshold;
SELECT cdp.company_similarity('中国银行', '中国建设银行') AS s;
SET cdp.company_match_threshold = 0.5;
SELECT cdp.company_match('中国银行', '中国建设银行') AS at_05;
SET cdp.company_match_threshold = 0.51;
SELECT cdp.company_match('中国银行', '中国建设银行') AS at_051;
RESET cdp.company_match_threshold;
-- invalid: outside [0, 1] (22023)
SET cdp.company_match_threshold = 1.5;
SET cdp.company_match_threshold = -0.1;
-- invalid: a misspelt cdp setting is an error, not a placeholder (42704)
SET cdp.company_match_treshold = 0.5;

-- the search key: distinctive words only
SELECT n, cdp.company_search_key(n) AS search_key
  FROM unnest(ARRAY['贵州茅台酒股份有限公司', '中国银行股份有限公司', 'Bridgestone (Shenyang) Tire Co., Ltd.',
                    'Shanghai Trading Co., Ltd.', '😀']) n;

-- the pinyin key: the brand's pinyin as one word, NULL without Han
SELECT n, cdp.company_pinyin_key(n) AS pinyin_key
  FROM unnest(ARRAY['贵州茅台酒股份有限公司', '北京百度网讯科技有限公司', 'TCL科技', 'Maotai', '😀']) n;

-- e-mail and web domains
SELECT a, cdp.email_domain(a) AS domain
  FROM unnest(ARRAY['li@Moutaichina.com', 'https://www.moutaichina.com/about?x=1', 'WWW.BAIDU.COM.',
                    'zhang@qq.com', 'x@163.com', 'baidu.com:8080', '', '@']) a;

DROP EXTENSION cdp CASCADE;
DROP EXTENSION pg_trgm;
