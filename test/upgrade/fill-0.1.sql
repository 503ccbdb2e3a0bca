-- fill-0.1.sql: data for cdp 0.1, loaded by test/suites/upgrade.sh before
-- ALTER EXTENSION cdp UPDATE.  Frozen with the release: it must run on the
-- 0.1 install script, whatever the demo becomes later.  It is the 0.1 demo
-- data set plus the tables the demo leaves empty.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS cdp CASCADE;
RESET client_min_messages;
SELECT setseed(0.2026) \g /dev/null

CREATE TEMP TABLE demo_region (i int, zh text, en text, province text);
INSERT INTO demo_region VALUES
 (1,'广州','Guangzhou','广东'), (2,'深圳','Shenzhen','广东'), (3,'东莞','Dongguan','广东'),
 (4,'佛山','Foshan','广东'), (5,'上海','Shanghai','上海'), (6,'北京','Beijing','北京'),
 (7,'杭州','Hangzhou','浙江'), (8,'宁波','Ningbo','浙江'), (9,'苏州','Suzhou','江苏'),
 (10,'南京','Nanjing','江苏'), (11,'成都','Chengdu','四川'), (12,'武汉','Wuhan','湖北'),
 (13,'长沙','Changsha','湖南'), (14,'西安','Xi''an','陕西'), (15,'青岛','Qingdao','山东'),
 (16,'厦门','Xiamen','福建'), (17,'天津','Tianjin','天津'), (18,'重庆','Chongqing','重庆');

CREATE TEMP TABLE demo_brand (i int, zh text, en text);
INSERT INTO demo_brand VALUES
 (1,'华信','Huaxin'), (2,'恒通','Hengtong'), (3,'金达','Jinda'), (4,'瑞丰','Ruifeng'),
 (5,'宏远','Hongyuan'), (6,'天成','Tiancheng'), (7,'创新','Chuangxin'), (8,'联合','Lianhe'),
 (9,'中科','Zhongke'), (10,'博远','Boyuan'), (11,'鑫源','Xinyuan'), (12,'安泰','Antai'),
 (13,'嘉禾','Jiahe'), (14,'盛世','Shengshi'), (15,'新亚','Xinya'), (16,'永信','Yongxin'),
 (17,'东方','Dongfang'), (18,'长江','Changjiang'), (19,'海纳','Haina'), (20,'远景','Yuanjing'),
 (21,'正泰','Zhengtai'), (22,'德力','Deli'), (23,'华茂','Huamao'), (24,'启明','Qiming'),
 (25,'万和','Wanhe'), (26,'同济','Tongji'), (27,'銀河','Yinhe'), (28,'凯达','Kaida'),
 (29,'明阳','Mingyang'), (30,'百川','Baichuan'), (31,'卓越','Zhuoyue'), (32,'立信','Lixin');

CREATE TEMP TABLE demo_industry (i int, zh text, en text, slug text, segment text);
INSERT INTO demo_industry VALUES
 (1,'机械','Machinery','machinery','big_b'), (2,'电子','Electronics','electronics','small_b'),
 (3,'科技','Technology','tech','small_b'), (4,'化工','Chemical','chem','big_b'),
 (5,'医疗器械','Medical Devices','medical','big_b'), (6,'物流','Logistics','logistics','small_b'),
 (7,'食品','Food','food','big_c'), (8,'建材','Building Materials','building','big_b'),
 (9,'汽车零部件','Auto Parts','autoparts','big_b'), (10,'纺织','Textile','textile','small_b'),
 (11,'软件','Software','soft','small_b'), (12,'连锁餐饮','Restaurant Chain','dining','small_c');

CREATE TEMP TABLE demo_form (i int, zh text, en text);
INSERT INTO demo_form VALUES
 (1,'有限公司','Co., Ltd.'), (2,'股份有限公司','Co., Ltd.'), (3,'集团有限公司','Group Co., Ltd.'),
 (4,'有限责任公司','Co., Ltd.');

CREATE TEMP TABLE demo_rep (i int, role name);
INSERT INTO demo_rep VALUES (1,'rep_wang'), (2,'rep_li'), (3,'rep_zhang'), (4,'rep_chen'), (5,'rep_liu');

-- Campaigns -------------------------------------------------------------------
INSERT INTO cdp.campaign (name, channel, started_on, ended_on, budget, cost, owner)
SELECT c.name, c.channel, current_date - c.start_ago, current_date - c.end_ago, c.budget, c.cost, 'marketing'
  FROM (VALUES
    ('广交会 Canton Fair booth', 'event', 330, 320, 300000, 286000),
    ('百度搜索推广 Baidu search ads', 'search_ads', 360, 0, 240000, 221500),
    ('微信公众号内容营销 WeChat articles', 'wechat', 300, 0, 80000, 64200),
    ('行业白皮书下载 Industry whitepaper', 'content', 250, 120, 50000, 41800),
    ('线上研讨会 Webinar series', 'webinar', 200, 30, 60000, 52300),
    ('老客户转介绍 Referral programme', 'referral', 365, 0, 40000, 18600)
  ) AS c(name, channel, start_ago, end_ago, budget, cost);

-- Accounts --------------------------------------------------------------------
-- Registered names are unique; created at random times over the past year,
-- all as prospects (their later moves are replayed below).
CREATE TEMP TABLE demo_account AS
SELECT n AS seq,
       1 + ((2147483647 & hashint8(n * 7)) % 18) AS r,
       1 + ((2147483647 & hashint8(n * 11)) % 32) AS b,
       1 + ((2147483647 & hashint8(n * 13)) % 12) AS ind,
       1 + ((2147483647 & hashint8(n * 17)) % 4) AS f
  FROM generate_series(1, 420) n;
DELETE FROM demo_account a USING demo_account d
 WHERE d.r = a.r AND d.b = a.b AND d.ind = a.ind AND d.seq < a.seq;
DELETE FROM demo_account WHERE seq NOT IN (SELECT seq FROM demo_account ORDER BY seq LIMIT 300);

CREATE TEMP TABLE demo_account_row AS
SELECT d.seq,
       rg.zh || br.zh || ind.zh || fm.zh AS name,
       br.zh || ind.zh AS short_name,
       rg.en || ' ' || br.en || ' ' || ind.en || ' ' || fm.en AS name_en,
       lower(br.en) || '-' || ind.slug || '.com.cn' AS domain,
       -- the city as a sales rep types it: sometimes with 市, sometimes in pinyin
       CASE (2147483647 & hashint8(d.seq)) % 4 WHEN 0 THEN rg.zh || '市' WHEN 1 THEN rg.en ELSE rg.zh END AS city,
       rg.province AS province, ind.zh AS industry, ind.segment,
       CASE WHEN (2147483647 & hashint8(d.seq * 3)) % 10 = 0 THEN 'key'
            WHEN (2147483647 & hashint8(d.seq * 3)) % 10 < 7 THEN 'standard' ELSE 'long_tail' END AS tier,
       20 + ((2147483647 & hashint8(d.seq * 5)) % 3000) AS employees,
       (1 + (2147483647 & hashint8(d.seq * 19)) % 500) * 1000000 AS annual_revenue,
       (ARRAY['import', 'trade_show', 'web', 'crm_sync'])[1 + (2147483647 & hashint8(d.seq * 23)) % 4] AS source,
       now() - make_interval(days => 365 - (d.seq % 300)) AS created_at
  FROM demo_account d
  JOIN demo_region rg ON rg.i = d.r
  JOIN demo_brand br ON br.i = d.b
  JOIN demo_industry ind ON ind.i = d.ind
  JOIN demo_form fm ON fm.i = d.f;

-- one by one, so that each first stay begins when the account was created
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM demo_account_row ORDER BY seq LOOP
        PERFORM set_config('cdp.stage_time', r.created_at::text, true);
        INSERT INTO cdp.account (name, short_name, name_en, domain, city, province, industry, segment,
                                 tier, employees, annual_revenue, source, created_at)
        VALUES (r.name, r.short_name, r.name_en, r.domain, r.city, r.province, r.industry, r.segment,
                r.tier, r.employees, r.annual_revenue, r.source, r.created_at);
    END LOOP;
    PERFORM set_config('cdp.stage_time', '', true);
END
$$;

-- Contacts: one to five per account, with a place in the decision chain ----------
INSERT INTO cdp.contact (account_id, name, title, department, email, phone, decision_role,
                         verified, owner, created_at)
SELECT a.account_id,
       (ARRAY['王','李','张','刘','陈','杨','黄','赵','周','吴','徐','孙','马','朱','胡','郭'])[1 + (2147483647 & hashint8(a.account_id * 31 + k)) % 16]
       || (ARRAY['伟','芳','娜','敏','静','强','磊','军','洋','勇','艳','杰','娟','涛','明','超'])[1 + (2147483647 & hashint8(a.account_id * 37 + k)) % 16],
       t.title, t.department,
       'c' || a.account_id || '.' || k || '@' || a.domain,
       '13' || lpad(((2147483647 & hashint8(a.account_id * 41 + k)) % 1000000000)::text, 9, '0'),
       t.role,
       random() < 0.6,
       NULL,
       a.created_at + make_interval(days => k * 3)
  FROM cdp.account a
 CROSS JOIN LATERAL generate_series(1, 1 + (2147483647 & hashint8(a.account_id * 43)) % 5) g(k)
  JOIN (VALUES (1, '总经理 General manager', '总经办', 'decision_maker'),
               (2, '采购经理 Purchasing manager', '采购部', 'procurement'),
               (3, '技术总监 Technical director', '技术部', 'it'),
               (4, '财务经理 Finance manager', '财务部', 'finance'),
               (5, '生产主管 Production supervisor', '生产部', 'user'))
       AS t(n, title, department, role) ON t.n = g.k;

-- Leads: 600 over the year, most of them from known companies -------------------
CREATE TEMP TABLE demo_lead_row AS
SELECT n, CASE WHEN n % 3 = 0 THEN a.short_name ELSE a.name END AS company_name,
       c.name AS contact_name, c.title, c.email, c.phone, a.city,
       (ARRAY['web_form', 'trade_show', 'import', 'referral', 'web_form', 'phone_in'])[1 + n % 6] AS source,
       cp.channel, cp.campaign_id,
       a.account_id,
       greatest(a.created_at, now() - make_interval(days => 360 - (n * 7) % 355)) AS created_at
  FROM generate_series(1, 600) n
  JOIN cdp.account a ON a.account_id = 1 + (2147483647 & hashint8(n * 47)) % 300
  JOIN cdp.campaign cp ON cp.campaign_id = 1 + (2147483647 & hashint8(n * 53)) % 6
  LEFT JOIN LATERAL (SELECT * FROM cdp.contact c WHERE c.account_id = a.account_id
                      ORDER BY c.contact_id LIMIT 1) c ON true;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM demo_lead_row ORDER BY created_at, n LOOP
        PERFORM set_config('cdp.stage_time', r.created_at::text, true);
        INSERT INTO cdp.lead (company_name, contact_name, title, email, phone, city, source, channel,
                              campaign_id, account_id, created_at)
        VALUES (r.company_name, r.contact_name, r.title, r.email, r.phone, r.city, r.source, r.channel,
                r.campaign_id, r.account_id, r.created_at);
    END LOOP;
    PERFORM set_config('cdp.stage_time', '', true);
END
$$;

-- Replay a year of lifecycle moves -----------------------------------------------
-- Each entity walks forward along its model with a chance to stop at every
-- stage and a chance to drop out; the time between moves is 2 to 40 days.
-- Every move goes through the lifecycle trigger, at cdp.stage_time.
DO $$
DECLARE
    acc record;
    ld record;
    path text[] := ARRAY['lead', 'mql', 'sql', 'opportunity', 'customer', 'advocate'];
    keep real[] := ARRAY[0.80, 0.65, 0.70, 0.75, 0.55, 0.25];
    t timestamptz;
    i int;
    rep name;
    opp bigint;
    amt numeric;
BEGIN
    FOR acc IN SELECT * FROM cdp.account ORDER BY account_id LOOP
        t := acc.created_at;
        rep := (SELECT r.role FROM demo_rep r WHERE r.i = 1 + acc.account_id % 5);
        FOR i IN 1 .. array_length(path, 1) LOOP
            EXIT WHEN random() > keep[i];
            t := t + make_interval(days => 2 + floor(random() * 38)::int, hours => floor(random() * 9)::int);
            EXIT WHEN t > now();
            IF path[i] = 'customer' THEN
                -- the deal is won a few days after its last pipeline move
                t := greatest(t, (SELECT max(h.entered_at) + interval '3 days' FROM cdp.stage_history h
                                   WHERE h.entity = 'cdp.opportunity'::regclass
                                     AND h.entity_key = (SELECT max(opportunity_id)::text FROM cdp.opportunity
                                                          WHERE account_id = acc.account_id)));
                EXIT WHEN t > now();
            END IF;
            PERFORM set_config('cdp.stage_time', t::text, true);
            IF path[i] IN ('sql', 'opportunity', 'customer') THEN
                UPDATE cdp.account SET stage = path[i], owner = coalesce(owner, rep) WHERE account_id = acc.account_id;
            ELSE
                UPDATE cdp.account SET stage = path[i] WHERE account_id = acc.account_id;
            END IF;

            IF path[i] = 'opportunity' THEN
                -- the 商机 itself, with its own pipeline
                amt := (5 + floor(random() * 95)) * 10000;
                PERFORM set_config('cdp.stage_time', t::text, true);
                INSERT INTO cdp.opportunity (account_id, name, amount, expected_close, competitor, owner, source, created_at)
                VALUES (acc.account_id, acc.short_name || ' 设备采购项目', amt, (t + interval '60 days')::date,
                        (ARRAY[NULL, '西门子 Siemens', '汇川 Inovance', 'ABB', NULL])[1 + floor(random() * 5)::int],
                        rep, 'inbound', t)
                RETURNING opportunity_id INTO opp;
                PERFORM set_config('cdp.stage_time', (t + interval '5 days')::text, true);
                UPDATE cdp.opportunity SET stage = 'qualification' WHERE opportunity_id = opp;
                PERFORM set_config('cdp.stage_time', (t + interval '15 days')::text, true);
                UPDATE cdp.opportunity SET stage = 'proposal' WHERE opportunity_id = opp;
                IF random() < 0.75 THEN
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
                  FROM cdp.opportunity o, generate_series(0, floor(random() * 4)::int) k
                 WHERE o.opportunity_id = opp AND t + make_interval(days => 30 * k) < now();
            END IF;
        END LOOP;

        -- some drop out of the funnel
        IF acc.account_id % 9 = 0 THEN
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
            EXIT WHEN random() > keep[i - 1];
            t := t + make_interval(days => 1 + floor(random() * 20)::int);
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

-- Touchpoints: about 5,000 interactions --------------------------------------------
INSERT INTO cdp.touchpoint (account_id, contact_id, lead_id, campaign_id, channel, direction, kind,
                            outcome, points, cost, occurred_at, owner)
SELECT c.account_id, c.contact_id, NULL, 1 + (2147483647 & hashint8(c.contact_id * 59 + k)) % 6,
       ch.channel, ch.direction, ch.kind,
       CASE WHEN ch.channel = 'phone' THEN (ARRAY['connected', 'no_answer', 'busy', 'connected', 'wrong_number'])[1 + (2147483647 & hashint8(c.contact_id + k)) % 5]
            WHEN ch.channel = 'email' THEN (ARRAY['delivered', 'opened', 'replied', 'bounced'])[1 + (2147483647 & hashint8(c.contact_id + k)) % 4]
       END,
       ch.points, ch.cost,
       greatest(c.created_at, now() - make_interval(days => (2147483647 & hashint8(c.contact_id * 61 + k)) % 365,
                                                    hours => (2147483647 & hashint8(k)) % 10)),
       a.owner
  FROM cdp.contact c
  JOIN cdp.account a ON a.account_id = c.account_id
 CROSS JOIN generate_series(1, 5) k
  JOIN (VALUES (0, 'phone', 'outbound', 'call', 5.0, 8.00),
               (1, 'email', 'outbound', 'email_sent', 1.0, 0.20),
               (2, 'web', 'inbound', 'site_visit', 2.0, 0.00),
               (3, 'wechat', 'inbound', 'article_read', 1.5, 0.00),
               (4, 'visit', 'outbound', 'meeting', 20.0, 600.00),
               (5, 'event', 'inbound', 'booth_scan', 10.0, 150.00),
               (6, 'web', 'inbound', 'form_submit', 15.0, 0.00))
       AS ch(n, channel, direction, kind, points, cost)
    ON ch.n = (2147483647 & hashint8(c.contact_id * 67 + k)) % 7;

INSERT INTO cdp.touchpoint (lead_id, campaign_id, channel, direction, kind, points, cost, occurred_at)
SELECT l.lead_id, l.campaign_id, coalesce(l.channel, 'web'), 'inbound', 'form_submit', 15, 35, l.created_at
  FROM cdp.lead l;

-- Competitor orders and CDP sheets for key accounts --------------------------------
INSERT INTO cdp.competitor_order (account_id, competitor, ordered_at, product, amount, source)
SELECT a.account_id, (ARRAY['西门子 Siemens', '汇川 Inovance', 'ABB', '发那科 FANUC'])[1 + k % 4],
       current_date - ((2147483647 & hashint8(a.account_id * 71 + k)) % 700),
       '数控机床 CNC machine', (10 + (2147483647 & hashint8(a.account_id + k)) % 90) * 10000, 'customer'
  FROM cdp.account a, generate_series(1, 2) k
 WHERE a.account_id % 4 = 0;

INSERT INTO cdp.account_profile (account_id, org_structure, decision_process, scale, development_plan,
                                 pain_points, service_fit, key_people, action_plan, profit_level,
                                 acquisition_cost, equipment_budget, annual_purchase_volume, current_supplier)
SELECT a.account_id, '总经理下设生产、技术、采购、财务四部门', '技术部提需求，总经理审批，采购执行',
       a.employees || ' 人，2 个生产基地', '三年内产能翻倍', '设备老化，停机损失大',
       CASE WHEN a.account_id % 2 = 0 THEN '数控改造方案匹配' END,
       CASE WHEN a.account_id % 3 = 0 THEN '总经理、技术总监' END,
       CASE WHEN a.account_id % 5 = 0 THEN '季度拜访 + 技术交流会' END,
       (ARRAY['low', 'medium', 'high'])[1 + a.account_id % 3],
       5000 + a.account_id * 10, a.annual_revenue * 0.02, a.annual_revenue * 0.05,
       (ARRAY['西门子 Siemens', '汇川 Inovance', NULL])[1 + a.account_id % 3]
  FROM cdp.account a
 WHERE a.tier = 'key' OR a.account_id % 3 = 0;

INSERT INTO cdp.city_market (city, market, business_scale, similar_customers, total_volume, transaction_volume, maturity)
SELECT rg.zh, 'all', (5 + rg.i) * 100000000::numeric, 20 + rg.i * 7, (2 + rg.i) * 50000000::numeric, (1 + rg.i) * 8000000::numeric,
       (ARRAY['emerging', 'growing', 'mature', 'saturated'])[1 + rg.i % 4]
  FROM demo_region rg;

ANALYZE;
\echo
\echo '== demo data loaded'
SELECT (SELECT count(*) FROM cdp.account) AS accounts,
       (SELECT count(*) FROM cdp.contact) AS contacts,
       (SELECT count(*) FROM cdp.lead) AS leads,
       (SELECT count(*) FROM cdp.opportunity) AS opportunities,
       (SELECT count(*) FROM cdp."order") AS orders,
       (SELECT count(*) FROM cdp.touchpoint) AS touchpoints,
       (SELECT count(*) FROM cdp.stage_history) AS stage_history_rows;

-- a custom model and a tracked table of the user's
INSERT INTO cdp.lifecycle_model (model) VALUES ('tender');
INSERT INTO cdp.lifecycle_stage (model, stage, position, label_en) VALUES
    ('tender', 'announced', 1, 'Announced'), ('tender', 'bid', 2, 'Bid');
CREATE TABLE public.tender (id text PRIMARY KEY, phase text NOT NULL);
SELECT cdp.track_lifecycle('public.tender', 'phase', 'tender');
INSERT INTO public.tender VALUES ('T1', 'announced');
UPDATE public.tender SET phase = 'bid';
-- governance: consent decisions, relationships, a custom cadence, an erasure
INSERT INTO cdp.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
SELECT contact_id, ch, contact_id % 3 <> 0, 'consent', 'web_form', '2026-01-01'
  FROM cdp.contact, unnest('{phone,email,wechat}'::text[]) ch;
INSERT INTO cdp.relationship (from_contact, to_contact, kind, strength)
SELECT c.contact_id, c.contact_id + 1, 'knows', 0.5 FROM cdp.contact c
 WHERE c.contact_id % 7 = 0 AND EXISTS (SELECT 1 FROM cdp.contact d WHERE d.contact_id = c.contact_id + 1);
INSERT INTO cdp.outreach_model (model, max_unanswered) VALUES ('patient', 6);
SELECT cdp.forget_contact(7);
-- explicit transitions for the custom model
INSERT INTO cdp.lifecycle_transition (model, from_stage, to_stage) VALUES
    ('tender', 'announced', 'bid'), ('tender', 'bid', 'announced');
-- leads matched to accounts as they arrive (the demo's leads come matched)
INSERT INTO cdp.lead (company_name, contact_name, email, source)
SELECT name, 'Fill ' || account_id, 'fill' || account_id || '@example.org', 'web'
  FROM cdp.account WHERE account_id % 25 = 0;
-- a merge of two accounts, and a win model trained on the closed deals
-- (whose stays all precede the survivor's open stay: the 0.1 merge of other
-- pairs leaves stays that 0.2 repairs, checked on its own by upgrade.sh)
SELECT cdp.merge_accounts(s.account_id, d.account_id)
  FROM (SELECT h.entity_key::bigint AS account_id FROM cdp.stage_history h
         WHERE h.entity = 'cdp.account'::regclass AND h.exited_at IS NULL
         ORDER BY h.entered_at DESC, h.history_id LIMIT 1) s,
       (SELECT h.entity_key::bigint AS account_id FROM cdp.stage_history h
         WHERE h.entity = 'cdp.account'::regclass
         GROUP BY h.entity_key ORDER BY max(h.entered_at), h.entity_key LIMIT 1) d;
SELECT cdp.retrain_win_model() \g /dev/null
