-- cdp 0.1, released 2026-11-23.  FROZEN: never edit this file; later changes
-- go in upgrade scripts (upgrade/<version>/*.sql, see the README).
-- cdp install script, assembled by tools/assemble-sql.sh from: src/schema.sql src/lifecycle.sql src/normalize.sql src/company.sql src/city.sql src/bant.sql src/scoring.sql src/funnel.sql src/graph.sql src/views.sql src/governance.sql

\echo Use "CREATE EXTENSION cdp" to load this file. \quit

-- ==== src/schema.sql ====

-- schema.sql: the reference schema.
--
-- The tables an application writes to directly and a data team loads from
-- another CRM.  Every key is a bigint identity.  Every table holding user data
-- is registered with pg_extension_config_dump (at the end of this file) so
-- pg_dump keeps its rows and its sequence position.  Ownership of a row is
-- the owning database role's name (type name), so row-level security can
-- compare it with current_user.
--
-- Deletes are refused while other rows still refer to a row (the default NO
-- ACTION): losing a contact's touchpoints because its account was deleted is
-- never what a CRM wants.  Merges re-point references instead.

-- campaign ------------------------------------------------------------------

CREATE TABLE @extschema@.campaign (
    campaign_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    channel text,
    started_on date,
    ended_on date,
    budget numeric(18,2) CHECK (budget >= 0),
    cost numeric(18,2) CHECK (cost >= 0),
    owner name,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on)
);
COMMENT ON TABLE @extschema@.campaign IS 'Marketing campaigns (营销活动): trade shows, ads, webinars, mailings; leads, touchpoints and opportunities point here for ROI per campaign';
COMMENT ON COLUMN @extschema@.campaign.campaign_id IS 'Campaign identifier';
COMMENT ON COLUMN @extschema@.campaign.name IS 'Campaign name';
COMMENT ON COLUMN @extschema@.campaign.channel IS 'Main channel of the campaign (event, search_ads, wechat, email, ...)';
COMMENT ON COLUMN @extschema@.campaign.started_on IS 'First day of the campaign';
COMMENT ON COLUMN @extschema@.campaign.ended_on IS 'Last day of the campaign (NULL while running)';
COMMENT ON COLUMN @extschema@.campaign.budget IS 'Planned spend';
COMMENT ON COLUMN @extschema@.campaign.cost IS 'Actual spend so far';
COMMENT ON COLUMN @extschema@.campaign.owner IS 'Database role that owns the campaign';
COMMENT ON COLUMN @extschema@.campaign.created_at IS 'When the row was created';

-- account -------------------------------------------------------------------

CREATE TABLE @extschema@.account (
    account_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (name <> ''),
    short_name text,
    name_en text,
    domain text,
    city text,
    province text,
    industry text,
    segment text CHECK (segment IN ('big_b', 'small_b', 'big_c', 'small_c')),
    tier text NOT NULL DEFAULT 'standard' CHECK (tier IN ('key', 'standard', 'long_tail')),
    employees integer CHECK (employees >= 0),
    annual_revenue numeric(18,2) CHECK (annual_revenue >= 0),
    owner name,
    stage text NOT NULL DEFAULT 'prospect',
    parent_account_id bigint REFERENCES @extschema@.account,
    source text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.account IS 'Companies (客户/企业): one row per customer organisation, deduplicated; its lifecycle stage is tracked by the b2b model';
COMMENT ON COLUMN @extschema@.account.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.account.name IS 'Registered (full legal) company name, e.g. 贵州茅台酒股份有限公司';
COMMENT ON COLUMN @extschema@.account.short_name IS 'Short name or brand (简称/字号), e.g. 贵州茅台';
COMMENT ON COLUMN @extschema@.account.name_en IS 'English or pinyin name, e.g. Kweichow Moutai Co., Ltd.';
COMMENT ON COLUMN @extschema@.account.domain IS 'Main web or e-mail domain, lower case, e.g. moutaichina.com';
COMMENT ON COLUMN @extschema@.account.city IS 'City as entered; see cdp.city_key for the canonical form';
COMMENT ON COLUMN @extschema@.account.province IS 'Province or region';
COMMENT ON COLUMN @extschema@.account.industry IS 'Industry (行业)';
COMMENT ON COLUMN @extschema@.account.segment IS 'Business segment: big_b, small_b, big_c or small_c (大B/小B/大C/小C)';
COMMENT ON COLUMN @extschema@.account.tier IS 'Account tier: key (重点客户), standard or long_tail; key accounts need more complete CDP sheets';
COMMENT ON COLUMN @extschema@.account.employees IS 'Number of employees (规模)';
COMMENT ON COLUMN @extschema@.account.annual_revenue IS 'Annual revenue in CNY';
COMMENT ON COLUMN @extschema@.account.owner IS 'Database role of the sales rep who owns the account (负责人)';
COMMENT ON COLUMN @extschema@.account.stage IS 'Current lifecycle stage (b2b model unless re-tracked)';
COMMENT ON COLUMN @extschema@.account.parent_account_id IS 'Parent company (集团) when this account is a subsidiary or branch';
COMMENT ON COLUMN @extschema@.account.source IS 'Where the account came from (import, crm_sync, trade_show, ...)';
COMMENT ON COLUMN @extschema@.account.created_at IS 'When the row was created';
COMMENT ON COLUMN @extschema@.account.updated_at IS 'When the row was last changed by the application';

CREATE INDEX account_owner_idx ON @extschema@.account (owner);
CREATE INDEX account_stage_idx ON @extschema@.account (stage);
CREATE INDEX account_domain_idx ON @extschema@.account (pg_catalog.lower(domain));
CREATE INDEX account_city_idx ON @extschema@.account (city);
CREATE INDEX account_parent_idx ON @extschema@.account (parent_account_id);

-- contact -------------------------------------------------------------------

CREATE TABLE @extschema@.contact (
    contact_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint REFERENCES @extschema@.account,
    name text,
    title text,
    department text,
    email text,
    phone text,
    wechat text,
    decision_role text CHECK (decision_role IN ('decision_maker', 'approver', 'finance',
        'procurement', 'it', 'user', 'executor', 'influencer', 'champion', 'gatekeeper')),
    reports_to bigint REFERENCES @extschema@.contact,
    approval_limit numeric(18,2) CHECK (approval_limit >= 0),
    verified boolean NOT NULL DEFAULT false,
    owner name,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (reports_to IS DISTINCT FROM contact_id)
);
COMMENT ON TABLE @extschema@.contact IS 'People at accounts (联系人), with their place in the decision chain';
COMMENT ON COLUMN @extschema@.contact.contact_id IS 'Contact identifier';
COMMENT ON COLUMN @extschema@.contact.account_id IS 'Account the person works for';
COMMENT ON COLUMN @extschema@.contact.name IS 'Full name (personal data)';
COMMENT ON COLUMN @extschema@.contact.title IS 'Job title (职位)';
COMMENT ON COLUMN @extschema@.contact.department IS 'Department (部门)';
COMMENT ON COLUMN @extschema@.contact.email IS 'E-mail address (personal data)';
COMMENT ON COLUMN @extschema@.contact.phone IS 'Phone number, mobile or landline (personal data)';
COMMENT ON COLUMN @extschema@.contact.wechat IS 'WeChat ID (personal data)';
COMMENT ON COLUMN @extschema@.contact.decision_role IS 'Role in the buying decision (决策链角色): decision_maker, approver, finance, procurement, it, user, executor, influencer, champion, gatekeeper';
COMMENT ON COLUMN @extschema@.contact.reports_to IS 'Contact this person reports to (汇报线)';
COMMENT ON COLUMN @extschema@.contact.approval_limit IS 'Largest amount this person can approve alone, in CNY';
COMMENT ON COLUMN @extschema@.contact.verified IS 'Whether the contact details were confirmed by a conversation';
COMMENT ON COLUMN @extschema@.contact.owner IS 'Database role of the sales rep who owns the contact';
COMMENT ON COLUMN @extschema@.contact.created_at IS 'When the row was created';
COMMENT ON COLUMN @extschema@.contact.updated_at IS 'When the row was last changed by the application';

CREATE INDEX contact_account_idx ON @extschema@.contact (account_id);
CREATE INDEX contact_reports_to_idx ON @extschema@.contact (reports_to);
CREATE INDEX contact_email_idx ON @extschema@.contact (pg_catalog.lower(email));
CREATE INDEX contact_phone_idx ON @extschema@.contact (phone);
CREATE INDEX contact_owner_idx ON @extschema@.contact (owner);

-- lead ----------------------------------------------------------------------

CREATE TABLE @extschema@.lead (
    lead_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_name text,
    contact_name text,
    title text,
    email text,
    phone text,
    city text,
    source text,
    channel text,
    campaign_id bigint REFERENCES @extschema@.campaign,
    fit_score integer CHECK (fit_score BETWEEN 0 AND 100),
    engagement_score double precision CHECK (engagement_score >= 0),
    score integer CHECK (score BETWEEN 0 AND 100),
    scored_at timestamptz,
    stage text NOT NULL DEFAULT 'lead',
    account_id bigint REFERENCES @extschema@.account,
    contact_id bigint REFERENCES @extschema@.contact,
    owner name,
    disqualified_reason text,
    converted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.lead IS 'Inbound interest (线索): forms, trade-show scans, imports; matched to an account, qualified, scored and moved along the b2b lifecycle';
COMMENT ON COLUMN @extschema@.lead.lead_id IS 'Lead identifier';
COMMENT ON COLUMN @extschema@.lead.company_name IS 'Company name as the lead wrote it';
COMMENT ON COLUMN @extschema@.lead.contact_name IS 'Name of the person (personal data)';
COMMENT ON COLUMN @extschema@.lead.title IS 'Job title of the person';
COMMENT ON COLUMN @extschema@.lead.email IS 'E-mail address (personal data)';
COMMENT ON COLUMN @extschema@.lead.phone IS 'Phone number (personal data)';
COMMENT ON COLUMN @extschema@.lead.city IS 'City as entered';
COMMENT ON COLUMN @extschema@.lead.source IS 'Where the lead came from (web_form, trade_show, import, referral, ...)';
COMMENT ON COLUMN @extschema@.lead.channel IS 'Marketing channel (search_ads, wechat, email, event, ...)';
COMMENT ON COLUMN @extschema@.lead.campaign_id IS 'Campaign that produced the lead';
COMMENT ON COLUMN @extschema@.lead.fit_score IS 'Fit (BANT) score 0..100';
COMMENT ON COLUMN @extschema@.lead.engagement_score IS 'Engagement score with decay, as of scored_at';
COMMENT ON COLUMN @extschema@.lead.score IS 'Combined lead score 0..100 that drives MQL/SQL moves';
COMMENT ON COLUMN @extschema@.lead.scored_at IS 'When the scores were last computed';
COMMENT ON COLUMN @extschema@.lead.stage IS 'Current lifecycle stage (b2b model)';
COMMENT ON COLUMN @extschema@.lead.account_id IS 'Account the lead was matched to';
COMMENT ON COLUMN @extschema@.lead.contact_id IS 'Contact the lead was matched or converted to';
COMMENT ON COLUMN @extschema@.lead.owner IS 'Database role of the sales rep who owns the lead';
COMMENT ON COLUMN @extschema@.lead.disqualified_reason IS 'Why the lead was disqualified';
COMMENT ON COLUMN @extschema@.lead.converted_at IS 'When the lead was converted into a contact or opportunity; converted leads are no longer scored';
COMMENT ON COLUMN @extschema@.lead.created_at IS 'When the lead arrived';
COMMENT ON COLUMN @extschema@.lead.updated_at IS 'When the row was last changed by the application';

CREATE INDEX lead_account_idx ON @extschema@.lead (account_id);
CREATE INDEX lead_contact_idx ON @extschema@.lead (contact_id);
CREATE INDEX lead_campaign_idx ON @extschema@.lead (campaign_id);
CREATE INDEX lead_stage_idx ON @extschema@.lead (stage);
CREATE INDEX lead_owner_idx ON @extschema@.lead (owner);
CREATE INDEX lead_email_idx ON @extschema@.lead (pg_catalog.lower(email));
CREATE INDEX lead_created_idx ON @extschema@.lead (created_at);

-- opportunity ---------------------------------------------------------------

CREATE TABLE @extschema@.opportunity (
    opportunity_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES @extschema@.account,
    name text,
    amount numeric(18,2) CHECK (amount >= 0),
    currency char(3) NOT NULL DEFAULT 'CNY',
    stage text NOT NULL DEFAULT 'discovery',
    expected_close date,
    closed_at timestamptz,
    competitor text,
    lost_reason text,
    lead_id bigint REFERENCES @extschema@.lead,
    campaign_id bigint REFERENCES @extschema@.campaign,
    referred_by bigint REFERENCES @extschema@.contact,
    source text,
    owner name,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.opportunity IS 'Sales opportunities (商机); the stage is tracked by the opportunity model (discovery ... won, or lost)';
COMMENT ON COLUMN @extschema@.opportunity.opportunity_id IS 'Opportunity identifier';
COMMENT ON COLUMN @extschema@.opportunity.account_id IS 'Account the opportunity is with';
COMMENT ON COLUMN @extschema@.opportunity.name IS 'Short description of the deal';
COMMENT ON COLUMN @extschema@.opportunity.amount IS 'Expected or won amount (金额)';
COMMENT ON COLUMN @extschema@.opportunity.currency IS 'ISO 4217 currency of amount';
COMMENT ON COLUMN @extschema@.opportunity.stage IS 'Current stage (opportunity model): discovery, qualification, proposal, negotiation, won; exit lost';
COMMENT ON COLUMN @extschema@.opportunity.expected_close IS 'Expected decision date (预计成交日期)';
COMMENT ON COLUMN @extschema@.opportunity.closed_at IS 'When the deal was won or lost';
COMMENT ON COLUMN @extschema@.opportunity.competitor IS 'Main competitor in the deal (竞争对手)';
COMMENT ON COLUMN @extschema@.opportunity.lost_reason IS 'Why the deal was lost; required to enter the lost stage';
COMMENT ON COLUMN @extschema@.opportunity.lead_id IS 'Lead the opportunity was created from';
COMMENT ON COLUMN @extschema@.opportunity.campaign_id IS 'Campaign the opportunity is attributed to';
COMMENT ON COLUMN @extschema@.opportunity.referred_by IS 'Contact who referred this business (转介绍人); NULL for new business';
COMMENT ON COLUMN @extschema@.opportunity.source IS 'Where the opportunity came from (inbound, outbound, referral, renewal, ...)';
COMMENT ON COLUMN @extschema@.opportunity.owner IS 'Database role of the sales rep who owns the opportunity';
COMMENT ON COLUMN @extschema@.opportunity.created_at IS 'When the opportunity was created';
COMMENT ON COLUMN @extschema@.opportunity.updated_at IS 'When the row was last changed by the application';

CREATE INDEX opportunity_account_idx ON @extschema@.opportunity (account_id);
CREATE INDEX opportunity_lead_idx ON @extschema@.opportunity (lead_id);
CREATE INDEX opportunity_campaign_idx ON @extschema@.opportunity (campaign_id);
CREATE INDEX opportunity_referred_by_idx ON @extschema@.opportunity (referred_by);
CREATE INDEX opportunity_stage_idx ON @extschema@.opportunity (stage);
CREATE INDEX opportunity_owner_idx ON @extschema@.opportunity (owner);

-- orders --------------------------------------------------------------------

CREATE TABLE @extschema@."order" (
    order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES @extschema@.account,
    opportunity_id bigint REFERENCES @extschema@.opportunity,
    ordered_at timestamptz NOT NULL,
    product text,
    quantity numeric(18,3) CHECK (quantity >= 0),
    amount numeric(18,2) NOT NULL CHECK (amount >= 0),
    cost numeric(18,2) CHECK (cost >= 0),
    currency char(3) NOT NULL DEFAULT 'CNY',
    owner name,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@."order" IS 'Our own orders (订单): the purchase history behind revenue, repeat purchase and lifetime value';
COMMENT ON COLUMN @extschema@."order".order_id IS 'Order identifier';
COMMENT ON COLUMN @extschema@."order".account_id IS 'Buying account';
COMMENT ON COLUMN @extschema@."order".opportunity_id IS 'Opportunity the order closed, if any';
COMMENT ON COLUMN @extschema@."order".ordered_at IS 'When the order was placed';
COMMENT ON COLUMN @extschema@."order".product IS 'Product or product line';
COMMENT ON COLUMN @extschema@."order".quantity IS 'Quantity ordered';
COMMENT ON COLUMN @extschema@."order".amount IS 'Order value';
COMMENT ON COLUMN @extschema@."order".cost IS 'Cost of goods for the order, for profit (利润)';
COMMENT ON COLUMN @extschema@."order".currency IS 'ISO 4217 currency of amount and cost';
COMMENT ON COLUMN @extschema@."order".owner IS 'Database role of the sales rep credited with the order';
COMMENT ON COLUMN @extschema@."order".created_at IS 'When the row was created';

CREATE INDEX order_account_idx ON @extschema@."order" (account_id, ordered_at);
CREATE INDEX order_opportunity_idx ON @extschema@."order" (opportunity_id);
CREATE INDEX order_owner_idx ON @extschema@."order" (owner);

CREATE TABLE @extschema@.competitor_order (
    competitor_order_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES @extschema@.account,
    competitor text NOT NULL,
    ordered_at date,
    product text,
    quantity numeric(18,3) CHECK (quantity >= 0),
    amount numeric(18,2) CHECK (amount >= 0),
    currency char(3) NOT NULL DEFAULT 'CNY',
    source text,
    notes text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.competitor_order IS 'What accounts bought from competitors (竞品订单), as far as sales knows it';
COMMENT ON COLUMN @extschema@.competitor_order.competitor_order_id IS 'Competitor order identifier';
COMMENT ON COLUMN @extschema@.competitor_order.account_id IS 'Buying account';
COMMENT ON COLUMN @extschema@.competitor_order.competitor IS 'Competitor that won the order';
COMMENT ON COLUMN @extschema@.competitor_order.ordered_at IS 'When the order was placed, as far as known';
COMMENT ON COLUMN @extschema@.competitor_order.product IS 'Product or product line';
COMMENT ON COLUMN @extschema@.competitor_order.quantity IS 'Quantity ordered';
COMMENT ON COLUMN @extschema@.competitor_order.amount IS 'Estimated order value';
COMMENT ON COLUMN @extschema@.competitor_order.currency IS 'ISO 4217 currency of amount';
COMMENT ON COLUMN @extschema@.competitor_order.source IS 'How we learned of the order (customer, tender notice, ...)';
COMMENT ON COLUMN @extschema@.competitor_order.notes IS 'Free-form notes';
COMMENT ON COLUMN @extschema@.competitor_order.created_at IS 'When the row was created';

CREATE INDEX competitor_order_account_idx ON @extschema@.competitor_order (account_id, ordered_at);

-- touchpoint ----------------------------------------------------------------

CREATE TABLE @extschema@.touchpoint (
    touchpoint_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint REFERENCES @extschema@.account,
    contact_id bigint REFERENCES @extschema@.contact,
    lead_id bigint REFERENCES @extschema@.lead,
    campaign_id bigint REFERENCES @extschema@.campaign,
    channel text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    kind text NOT NULL,
    outcome text,
    points double precision,
    cost numeric(18,2) CHECK (cost >= 0),
    occurred_at timestamptz NOT NULL,
    owner name,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (account_id IS NOT NULL OR contact_id IS NOT NULL OR lead_id IS NOT NULL)
);
COMMENT ON TABLE @extschema@.touchpoint IS 'Every interaction (触点) with an account, contact or lead: calls, e-mails, visits, events, web visits; the event stream behind engagement, reach and funnels';
COMMENT ON COLUMN @extschema@.touchpoint.touchpoint_id IS 'Touchpoint identifier';
COMMENT ON COLUMN @extschema@.touchpoint.account_id IS 'Account involved';
COMMENT ON COLUMN @extschema@.touchpoint.contact_id IS 'Contact involved';
COMMENT ON COLUMN @extschema@.touchpoint.lead_id IS 'Lead involved';
COMMENT ON COLUMN @extschema@.touchpoint.campaign_id IS 'Campaign the touchpoint belongs to';
COMMENT ON COLUMN @extschema@.touchpoint.channel IS 'Channel (phone, email, wechat, sms, visit, event, web, ads, referral, ...)';
COMMENT ON COLUMN @extschema@.touchpoint.direction IS 'inbound (they reached us) or outbound (we reached them)';
COMMENT ON COLUMN @extschema@.touchpoint.kind IS 'What happened (call, email_sent, email_open, form_submit, meeting, demo, site_visit, download, ...)';
COMMENT ON COLUMN @extschema@.touchpoint.outcome IS 'Result of an attempt (connected, no_answer, busy, bounced, wrong_number, replied, ...)';
COMMENT ON COLUMN @extschema@.touchpoint.points IS 'Engagement points the interaction is worth before decay';
COMMENT ON COLUMN @extschema@.touchpoint.cost IS 'What the interaction cost';
COMMENT ON COLUMN @extschema@.touchpoint.occurred_at IS 'When the interaction happened';
COMMENT ON COLUMN @extschema@.touchpoint.owner IS 'Database role of the rep who owns the interaction';
COMMENT ON COLUMN @extschema@.touchpoint.created_at IS 'When the row was created';

CREATE INDEX touchpoint_account_idx ON @extschema@.touchpoint (account_id, occurred_at);
CREATE INDEX touchpoint_contact_idx ON @extschema@.touchpoint (contact_id, occurred_at);
CREATE INDEX touchpoint_lead_idx ON @extschema@.touchpoint (lead_id, occurred_at);
CREATE INDEX touchpoint_campaign_idx ON @extschema@.touchpoint (campaign_id);
CREATE INDEX touchpoint_occurred_idx ON @extschema@.touchpoint USING brin (occurred_at);

-- CDP sheets ----------------------------------------------------------------

CREATE TABLE @extschema@.city_market (
    city_market_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    city text NOT NULL,
    market text NOT NULL DEFAULT 'all',
    business_scale numeric(18,2) CHECK (business_scale >= 0),
    similar_customers integer CHECK (similar_customers >= 0),
    total_volume numeric(18,2) CHECK (total_volume >= 0),
    transaction_volume numeric(18,2) CHECK (transaction_volume >= 0),
    maturity text CHECK (maturity IN ('emerging', 'growing', 'mature', 'saturated')),
    notes text,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (city, market)
);
COMMENT ON TABLE @extschema@.city_market IS 'City/market CDP sheet (城市市场信息表): size, similar customers, volume and maturity per city and market';
COMMENT ON COLUMN @extschema@.city_market.city_market_id IS 'Sheet row identifier';
COMMENT ON COLUMN @extschema@.city_market.city IS 'City (canonical form from cdp.city_key where available)';
COMMENT ON COLUMN @extschema@.city_market.market IS 'Market or product line the figures are for; all for the whole city';
COMMENT ON COLUMN @extschema@.city_market.business_scale IS 'City business scale (城市业务规模), in CNY per year';
COMMENT ON COLUMN @extschema@.city_market.similar_customers IS 'Number of similar customers in the city (同类客户数量)';
COMMENT ON COLUMN @extschema@.city_market.total_volume IS 'Total business volume of the market (业务总量), in CNY per year';
COMMENT ON COLUMN @extschema@.city_market.transaction_volume IS 'Volume actually transacted (成交量), in CNY per year';
COMMENT ON COLUMN @extschema@.city_market.maturity IS 'Market maturity (市场成熟度): emerging, growing, mature, saturated';
COMMENT ON COLUMN @extschema@.city_market.notes IS 'Free-form notes';
COMMENT ON COLUMN @extschema@.city_market.updated_at IS 'When the sheet was last updated';

CREATE TABLE @extschema@.account_profile (
    account_id bigint PRIMARY KEY REFERENCES @extschema@.account,
    legal_representative text,
    org_structure text,
    decision_process text,
    scale text,
    development_plan text,
    pain_points text,
    service_fit text,
    key_people text,
    key_person_actions text,
    action_plan text,
    profit_level text CHECK (profit_level IN ('loss', 'low', 'medium', 'high')),
    acquisition_cost numeric(18,2) CHECK (acquisition_cost >= 0),
    equipment_budget numeric(18,2) CHECK (equipment_budget >= 0),
    annual_purchase_volume numeric(18,2) CHECK (annual_purchase_volume >= 0),
    current_supplier text,
    notes text,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_by name DEFAULT CURRENT_USER
);
COMMENT ON TABLE @extschema@.account_profile IS 'Customer CDP sheet (客户信息表/开发策略/经营指标): what sales must learn about an account, one row per account';
COMMENT ON COLUMN @extschema@.account_profile.account_id IS 'Account the sheet describes';
COMMENT ON COLUMN @extschema@.account_profile.legal_representative IS 'Legal representative or main principal (法人/负责人)';
COMMENT ON COLUMN @extschema@.account_profile.org_structure IS 'Organisation structure (组织结构)';
COMMENT ON COLUMN @extschema@.account_profile.decision_process IS 'How purchases are decided and approved (决策流程)';
COMMENT ON COLUMN @extschema@.account_profile.scale IS 'Business scale in words: sites, fleet, capacity (规模)';
COMMENT ON COLUMN @extschema@.account_profile.development_plan IS 'The customer''s own development plans (发展规划)';
COMMENT ON COLUMN @extschema@.account_profile.pain_points IS 'Pain points and needs (痛点)';
COMMENT ON COLUMN @extschema@.account_profile.service_fit IS 'How our offer fits the needs (服务匹配)';
COMMENT ON COLUMN @extschema@.account_profile.key_people IS 'Key people and their attitudes (关键人)';
COMMENT ON COLUMN @extschema@.account_profile.key_person_actions IS 'Planned actions per key person (关键人行动)';
COMMENT ON COLUMN @extschema@.account_profile.action_plan IS 'Development action plan (行动计划)';
COMMENT ON COLUMN @extschema@.account_profile.profit_level IS 'Customer profit level (利润水平): loss, low, medium, high';
COMMENT ON COLUMN @extschema@.account_profile.acquisition_cost IS 'Customer acquisition cost so far (获客成本), CNY';
COMMENT ON COLUMN @extschema@.account_profile.equipment_budget IS 'Equipment budget for the year (设备预算), CNY';
COMMENT ON COLUMN @extschema@.account_profile.annual_purchase_volume IS 'Total yearly purchases in our category, all suppliers (年采购量), CNY';
COMMENT ON COLUMN @extschema@.account_profile.current_supplier IS 'Current main supplier (现有供应商)';
COMMENT ON COLUMN @extschema@.account_profile.notes IS 'Free-form notes';
COMMENT ON COLUMN @extschema@.account_profile.updated_at IS 'When the sheet was last updated';
COMMENT ON COLUMN @extschema@.account_profile.updated_by IS 'Role that last updated the sheet';

-- consent and relationships ---------------------------------------------------

CREATE TABLE @extschema@.consent (
    consent_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES @extschema@.contact,
    channel text NOT NULL,
    granted boolean NOT NULL,
    legal_basis text,
    source text,
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.consent IS 'Consent log (授权记录): one row per decision of a person about a channel; the latest decision per channel wins, no record means no';
COMMENT ON COLUMN @extschema@.consent.consent_id IS 'Consent record identifier';
COMMENT ON COLUMN @extschema@.consent.contact_id IS 'Person the decision is about';
COMMENT ON COLUMN @extschema@.consent.channel IS 'Channel (phone, email, sms, wechat, ...)';
COMMENT ON COLUMN @extschema@.consent.granted IS 'true when consent was given, false when withdrawn or refused';
COMMENT ON COLUMN @extschema@.consent.legal_basis IS 'Legal basis (consent, contract, legitimate_interest, ...)';
COMMENT ON COLUMN @extschema@.consent.source IS 'Where the decision was recorded (web_form, call, import, ...)';
COMMENT ON COLUMN @extschema@.consent.recorded_at IS 'When the decision was made';

CREATE INDEX consent_contact_idx ON @extschema@.consent (contact_id, channel, recorded_at);

CREATE TABLE @extschema@.relationship (
    relationship_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_contact bigint NOT NULL REFERENCES @extschema@.contact,
    to_contact bigint NOT NULL REFERENCES @extschema@.contact,
    kind text NOT NULL CHECK (kind IN ('reports_to', 'knows', 'referred', 'influences')),
    strength real NOT NULL DEFAULT 0.5 CHECK (strength > 0 AND strength <= 1),
    source text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (from_contact <> to_contact),
    UNIQUE (from_contact, to_contact, kind)
);
COMMENT ON TABLE @extschema@.relationship IS 'Ties between people (人脉关系): reporting lines, acquaintance, referrals and influence; walked in both directions by intro_paths';
COMMENT ON COLUMN @extschema@.relationship.relationship_id IS 'Relationship identifier';
COMMENT ON COLUMN @extschema@.relationship.from_contact IS 'Contact the edge starts from';
COMMENT ON COLUMN @extschema@.relationship.to_contact IS 'Contact the edge points to';
COMMENT ON COLUMN @extschema@.relationship.kind IS 'reports_to, knows, referred or influences';
COMMENT ON COLUMN @extschema@.relationship.strength IS 'Strength of the tie in (0, 1]';
COMMENT ON COLUMN @extschema@.relationship.source IS 'Where the tie was learned (sales_note, wechat, import, ...)';
COMMENT ON COLUMN @extschema@.relationship.created_at IS 'When the row was created';

-- covering, so that intro_paths walks edges backwards with index-only scans
CREATE INDEX relationship_to_idx ON @extschema@.relationship (to_contact) INCLUDE (from_contact, strength);

-- pg_dump keeps user data ---------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('@extschema@.campaign', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.contact', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lead', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.opportunity', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@."order"', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.competitor_order', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.touchpoint', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.city_market', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_profile', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.relationship', '');

-- and the positions of their identity sequences (one call per statement:
-- each call updates the pg_extension row)
DO $$
DECLARE
    seq pg_catalog.regclass;
BEGIN
    FOR seq IN
        SELECT pg_catalog.pg_get_serial_sequence(c.oid::pg_catalog.regclass::pg_catalog.text, a.attname)::pg_catalog.regclass
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) 'r'
           AND a.attidentity OPERATOR(pg_catalog.<>) ''
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(seq, '');
    END LOOP;
END
$$;

-- extension information ---------------------------------------------------

-- STABLE, not IMMUTABLE: the answer changes when the server or ICU is upgraded
CREATE FUNCTION @extschema@.build_info() RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_build_info'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.build_info() IS 'cdp version and the PostgreSQL and ICU versions it was built for and runs on; include it in bug reports';

-- ==== src/lifecycle.sql ====

-- lifecycle.sql: stage models, stage history and the functions that put a
-- table under lifecycle control.
--
-- A model is data: rows in lifecycle_model, lifecycle_stage and (optionally)
-- lifecycle_transition.  The C trigger cdp.lifecycle_trigger() validates
-- every stage change of a tracked table against its model and records one
-- cdp.stage_history row per stay.  The trigger caches models per backend;
-- statement triggers on the model tables invalidate that cache everywhere.

CREATE TABLE @extschema@.lifecycle_model (
    model text PRIMARY KEY CHECK (model ~ '^[a-z][a-z0-9_]{0,62}$'),
    description text,
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.lifecycle_model IS 'Lifecycle models (生命周期模型): one row per model; stages and transitions are in lifecycle_stage and lifecycle_transition';
COMMENT ON COLUMN @extschema@.lifecycle_model.model IS 'Model name (lower case identifier), e.g. b2b';
COMMENT ON COLUMN @extschema@.lifecycle_model.description IS 'What the model is for';
COMMENT ON COLUMN @extschema@.lifecycle_model.builtin IS 'true for the models shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.lifecycle_stage (
    model text NOT NULL REFERENCES @extschema@.lifecycle_model ON UPDATE CASCADE ON DELETE CASCADE,
    stage text NOT NULL CHECK (stage <> ''),
    position integer NOT NULL,
    pool text CHECK (pool IN ('marketing', 'sales', 'success')),
    is_exit boolean NOT NULL DEFAULT false,
    label_en text NOT NULL,
    label_zh text,
    required_columns name[] NOT NULL DEFAULT '{}',
    guard regprocedure,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (model, stage),
    UNIQUE (model, position)
);
COMMENT ON TABLE @extschema@.lifecycle_stage IS 'Stages of each lifecycle model (阶段), ordered by position; exit stages (is_exit) are side exits such as disqualified or churned';
COMMENT ON COLUMN @extschema@.lifecycle_stage.model IS 'Model the stage belongs to';
COMMENT ON COLUMN @extschema@.lifecycle_stage.stage IS 'Stage name as stored in tracked tables, e.g. mql';
COMMENT ON COLUMN @extschema@.lifecycle_stage.position IS 'Order of the stage in the model; a move to a lower position is a backward move';
COMMENT ON COLUMN @extschema@.lifecycle_stage.pool IS 'Pool the stage belongs to: marketing, sales or success (市场池/销售池/客户成功池); NULL for exits';
COMMENT ON COLUMN @extschema@.lifecycle_stage.is_exit IS 'true for side exits (disqualified, churned): reachable from any open stage, leaving one needs a reason';
COMMENT ON COLUMN @extschema@.lifecycle_stage.label_en IS 'English label';
COMMENT ON COLUMN @extschema@.lifecycle_stage.label_zh IS 'Chinese label';
COMMENT ON COLUMN @extschema@.lifecycle_stage.required_columns IS 'Columns of the tracked row that must be non-NULL and non-empty to enter the stage (refused with SQLSTATE 23502 otherwise)';
COMMENT ON COLUMN @extschema@.lifecycle_stage.guard IS 'Optional function f(entity regclass, entity_key text, to_stage text) RETURNS boolean; false or NULL refuses entry with SQLSTATE 23514';
COMMENT ON COLUMN @extschema@.lifecycle_stage.builtin IS 'true for the stages shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.lifecycle_transition (
    model text NOT NULL,
    from_stage text NOT NULL,
    to_stage text NOT NULL,
    requires_reason boolean NOT NULL DEFAULT false,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (model, from_stage, to_stage),
    FOREIGN KEY (model, from_stage) REFERENCES @extschema@.lifecycle_stage (model, stage)
        ON UPDATE CASCADE ON DELETE CASCADE,
    FOREIGN KEY (model, to_stage) REFERENCES @extschema@.lifecycle_stage (model, stage)
        ON UPDATE CASCADE ON DELETE CASCADE,
    CHECK (from_stage <> to_stage)
);
COMMENT ON TABLE @extschema@.lifecycle_transition IS 'Explicit transitions (阶段流转): a model with at least one row here allows only the listed moves; a model with none uses the default policy';
COMMENT ON COLUMN @extschema@.lifecycle_transition.model IS 'Model the transition belongs to';
COMMENT ON COLUMN @extschema@.lifecycle_transition.from_stage IS 'Stage the move starts from';
COMMENT ON COLUMN @extschema@.lifecycle_transition.to_stage IS 'Stage the move goes to';
COMMENT ON COLUMN @extschema@.lifecycle_transition.requires_reason IS 'true when the move is allowed only with a reason (cdp.set_stage reason or cdp.stage_reason)';
COMMENT ON COLUMN @extschema@.lifecycle_transition.builtin IS 'true for the transitions shipped with cdp; pg_dump keeps only the others';

CREATE TABLE @extschema@.tracked_table (
    tbl regclass PRIMARY KEY,
    stage_column name NOT NULL,
    key_column name NOT NULL,
    model text NOT NULL REFERENCES @extschema@.lifecycle_model ON UPDATE CASCADE,
    tracked_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.tracked_table IS 'Tables under lifecycle control (see cdp.track_lifecycle), with their stage column, key column and model';
COMMENT ON COLUMN @extschema@.tracked_table.tbl IS 'Tracked table';
COMMENT ON COLUMN @extschema@.tracked_table.stage_column IS 'Column holding the stage';
COMMENT ON COLUMN @extschema@.tracked_table.key_column IS 'Single-column primary key identifying the entity';
COMMENT ON COLUMN @extschema@.tracked_table.model IS 'Lifecycle model the stage follows';
COMMENT ON COLUMN @extschema@.tracked_table.tracked_at IS 'When tracking started';
COMMENT ON COLUMN @extschema@.tracked_table.builtin IS 'true for the cdp tables tracked out of the box';

CREATE TABLE @extschema@.stage_history (
    history_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity regclass NOT NULL,
    entity_key text NOT NULL,
    model text NOT NULL,
    stage text NOT NULL,
    previous_stage text,
    entered_at timestamptz NOT NULL,
    exited_at timestamptz,
    reason text,
    changed_by name NOT NULL DEFAULT CURRENT_USER,
    CHECK (exited_at >= entered_at)
);
COMMENT ON TABLE @extschema@.stage_history IS 'Stage history (阶段历史): one row per stay of an entity in a stage; the open stay has exited_at NULL. Written by the lifecycle trigger only';
COMMENT ON COLUMN @extschema@.stage_history.history_id IS 'History row identifier';
COMMENT ON COLUMN @extschema@.stage_history.entity IS 'Tracked table the entity lives in';
COMMENT ON COLUMN @extschema@.stage_history.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.stage_history.model IS 'Lifecycle model in force when the stay began';
COMMENT ON COLUMN @extschema@.stage_history.stage IS 'Stage of this stay';
COMMENT ON COLUMN @extschema@.stage_history.previous_stage IS 'Stage the entity came from (NULL for its first stay)';
COMMENT ON COLUMN @extschema@.stage_history.entered_at IS 'When the stay began';
COMMENT ON COLUMN @extschema@.stage_history.exited_at IS 'When the stay ended (NULL while the entity is still in the stage)';
COMMENT ON COLUMN @extschema@.stage_history.reason IS 'Reason given for the move (cdp.set_stage reason or cdp.stage_reason)';
COMMENT ON COLUMN @extschema@.stage_history.changed_by IS 'Role that made the move';

-- One index serves the trigger and history queries: the open stay of an
-- entity is its latest stay (greatest entered_at, then history_id), one step
-- down the index.  Closing a stay changes only exited_at, which no index
-- covers, so with the free space left by the fill factor the update is a HOT
-- update that writes no index entries.  At most one stay per entity is open
-- because the row lock of the tracked row's UPDATE serialises the trigger
-- runs for one entity (test/suites/lifecycle_concurrency.sh checks it).
ALTER TABLE @extschema@.stage_history SET (fillfactor = 85);
CREATE INDEX stage_history_entity_idx
    ON @extschema@.stage_history (entity, entity_key, entered_at, history_id);

-- The trigger ----------------------------------------------------------------

CREATE FUNCTION @extschema@.lifecycle_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'cdp_lifecycle_trigger'
    LANGUAGE C;
COMMENT ON FUNCTION @extschema@.lifecycle_trigger() IS 'Row trigger installed by cdp.track_lifecycle: validates stage changes against the model and records them in cdp.stage_history';

-- VOLATILE: it sends a cache invalidation
CREATE FUNCTION @extschema@.lifecycle_model_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'cdp_lifecycle_model_changed'
    LANGUAGE C;
COMMENT ON FUNCTION @extschema@.lifecycle_model_changed() IS 'Statement trigger on the model tables: tells every backend to reload its cached lifecycle models';

CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_model
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_stage
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lifecycle_transition
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();
CREATE TRIGGER lifecycle_model_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.tracked_table
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_model_changed();

-- Built-in models --------------------------------------------------------------

INSERT INTO @extschema@.lifecycle_model (model, description, builtin) VALUES
    ('b2b', 'B2B customer lifecycle: prospect to advocate, with disqualified and churned as side exits', true),
    ('zhuge', 'Zhuge-style user lifecycle (诸葛io): visitor to loyal customer, for small-C and product-led businesses', true),
    ('hubspot', 'HubSpot lifecycle stages: subscriber to evangelist, other as side exit', true),
    ('opportunity', 'Opportunity (商机) pipeline: discovery to won, with lost as side exit', true);

INSERT INTO @extschema@.lifecycle_stage
    (model, stage, position, pool, is_exit, label_en, label_zh, required_columns, builtin) VALUES
    ('b2b', 'prospect',     10, 'marketing', false, 'Prospect', '潜在客户', '{}', true),
    ('b2b', 'lead',         20, 'marketing', false, 'Lead', '线索', '{}', true),
    ('b2b', 'mql',          30, 'marketing', false, 'Marketing qualified lead', '市场认可线索', '{}', true),
    ('b2b', 'sql',          40, 'sales',     false, 'Sales qualified lead', '销售认可线索', '{owner}', true),
    ('b2b', 'opportunity',  50, 'sales',     false, 'Opportunity', '商机', '{owner}', true),
    ('b2b', 'customer',     60, 'success',   false, 'Customer', '客户', '{owner}', true),
    ('b2b', 'advocate',     70, 'success',   false, 'Advocate / referrer', '推荐者', '{}', true),
    ('b2b', 'disqualified', 90, NULL,        true,  'Disqualified', '不合格', '{}', true),
    ('b2b', 'churned',      91, NULL,        true,  'Churned', '流失', '{}', true),

    ('zhuge', 'visitor',    10, 'marketing', false, 'Visitor', '访客', '{}', true),
    ('zhuge', 'potential',  20, 'marketing', false, 'Potential user', '潜在用户', '{}', true),
    ('zhuge', 'activated',  30, 'sales',     false, 'Activated user', '激活用户', '{}', true),
    ('zhuge', 'customer',   40, 'success',   false, 'Paying customer', '付费客户', '{}', true),
    ('zhuge', 'active',     50, 'success',   false, 'Active customer', '活跃客户', '{}', true),
    ('zhuge', 'loyal',      60, 'success',   false, 'Loyal customer', '忠诚客户', '{}', true),

    ('hubspot', 'subscriber',  10, 'marketing', false, 'Subscriber', '订阅者', '{}', true),
    ('hubspot', 'lead',        20, 'marketing', false, 'Lead', '线索', '{}', true),
    ('hubspot', 'mql',         30, 'marketing', false, 'Marketing qualified lead', '市场认可线索', '{}', true),
    ('hubspot', 'sql',         40, 'sales',     false, 'Sales qualified lead', '销售认可线索', '{owner}', true),
    ('hubspot', 'opportunity', 50, 'sales',     false, 'Opportunity', '商机', '{owner}', true),
    ('hubspot', 'customer',    60, 'success',   false, 'Customer', '客户', '{owner}', true),
    ('hubspot', 'evangelist',  70, 'success',   false, 'Evangelist', '布道者', '{}', true),
    ('hubspot', 'other',       90, NULL,        true,  'Other', '其他', '{}', true),

    ('opportunity', 'discovery',     10, 'sales', false, 'Discovery', '需求发现', '{}', true),
    ('opportunity', 'qualification', 20, 'sales', false, 'Qualification', '商机确认', '{owner}', true),
    ('opportunity', 'proposal',      30, 'sales', false, 'Proposal', '方案报价', '{owner,amount}', true),
    ('opportunity', 'negotiation',   40, 'sales', false, 'Negotiation', '商务谈判', '{owner,amount,expected_close}', true),
    ('opportunity', 'won',           50, 'success', false, 'Won', '赢单', '{owner,amount}', true),
    ('opportunity', 'lost',          90, NULL,    true,  'Lost', '输单', '{lost_reason}', true);

-- Functions --------------------------------------------------------------------

-- VOLATILE: creates triggers and writes history.
CREATE FUNCTION @extschema@.track_lifecycle(tbl regclass, stage_column name DEFAULT 'stage', model text DEFAULT 'b2b')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.lifecycle_model;
    t @extschema@.tracked_table;
    keycol name;
    keycount integer;
    stage_type oid;
    missing text;
    unknown text;
    now_ts timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF tbl IS NULL OR stage_column IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'track_lifecycle arguments must not be NULL'
            USING ERRCODE = '22004';
    END IF;

    SELECT * INTO m FROM @extschema@.lifecycle_model lm WHERE lm.model OPERATOR(pg_catalog.=) track_lifecycle.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown lifecycle model "%"', model
            USING ERRCODE = '22023',
                  HINT = 'Known models: ' || (SELECT pg_catalog.string_agg(lm.model, ', ' ORDER BY lm.model)
                                               FROM @extschema@.lifecycle_model lm) || '.';
    END IF;

    IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) tbl) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', tbl
            USING ERRCODE = '42809';
    END IF;

    SELECT pg_catalog.count(*), pg_catalog.min(a.attname) INTO keycount, keycol
      FROM pg_catalog.pg_index i
      JOIN pg_catalog.pg_attribute a
        ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid AND a.attnum OPERATOR(pg_catalog.=) ANY (i.indkey)
     WHERE i.indrelid OPERATOR(pg_catalog.=) tbl AND i.indisprimary;
    IF keycount OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'table "%" must have a single-column primary key to be tracked', tbl
            USING ERRCODE = '42P16',
                  DETAIL = CASE WHEN keycount OPERATOR(pg_catalog.=) 0 THEN 'The table has no primary key.'
                                ELSE pg_catalog.format('The primary key has %s columns.', keycount) END,
                  HINT = 'Add a single-column primary key; stage history identifies an entity by it.';
    END IF;

    SELECT a.atttypid INTO stage_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) stage_column
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table "%" does not exist', stage_column, tbl
            USING ERRCODE = '42703';
    END IF;
    IF stage_column OPERATOR(pg_catalog.=) keycol THEN
        RAISE EXCEPTION 'the stage column of "%" cannot be its primary key', tbl
            USING ERRCODE = '22023';
    END IF;

    -- A model is shared by tables with different columns: a requirement on a
    -- column the table does not have does not apply to it.  Say so.
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%I (stage %s)', r.col, s.stage), ', ')
      INTO missing
      FROM @extschema@.lifecycle_stage s
     CROSS JOIN LATERAL pg_catalog.unnest(s.required_columns) AS r(col)
     WHERE s.model OPERATOR(pg_catalog.=) m.model
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) r.col
                          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE WARNING 'table "%" lacks columns that stages of model "%" require; those requirements do not apply to it', tbl, m.model
            USING DETAIL = 'Missing: ' || missing || '.',
                  HINT = 'Add the columns to have the requirements checked.';
    END IF;

    -- no stage changes while we look at the rows
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', tbl);

    SELECT * INTO t FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) track_lifecycle.tbl;
    IF FOUND THEN
        IF t.model OPERATOR(pg_catalog.=) m.model AND t.stage_column OPERATOR(pg_catalog.=) stage_column THEN
            RETURN;     -- already tracked the same way
        END IF;
        RAISE EXCEPTION 'table "%" is already tracked with model "%" on column "%"', tbl, t.model, t.stage_column
            USING ERRCODE = '42710',
                  HINT = 'Call cdp.untrack_lifecycle first to change its model or stage column.';
    END IF;

    -- existing rows must be in stages the model knows
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.string_agg(DISTINCT s, '', '') FROM (SELECT %I::pg_catalog.text AS s FROM %s) x
          WHERE s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.lifecycle_stage ls
                 WHERE ls.model OPERATOR(pg_catalog.=) $1 AND ls.stage OPERATOR(pg_catalog.=) x.s)',
        stage_column, tbl) INTO unknown USING m.model;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'table "%" has rows in stages that model "%" does not know', tbl, m.model
            USING ERRCODE = '22023',
                  DETAIL = 'Unknown stages: ' || unknown || '.';
    END IF;

    -- bring the history in line with the rows: close stays that no longer
    -- match (the table may have been tracked before), open the missing ones
    EXECUTE pg_catalog.format(
        'UPDATE @extschema@.stage_history h
            SET exited_at = GREATEST($2, h.entered_at)
          WHERE h.entity OPERATOR(pg_catalog.=) $1 AND h.exited_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM %s r
                             WHERE r.%I::pg_catalog.text OPERATOR(pg_catalog.=) h.entity_key
                               AND r.%I::pg_catalog.text OPERATOR(pg_catalog.=) h.stage)',
        tbl, keycol, stage_column) USING tbl, now_ts;
    EXECUTE pg_catalog.format(
        'INSERT INTO @extschema@.stage_history
                (entity, entity_key, model, stage, previous_stage, entered_at, reason, changed_by)
         SELECT $1, r.%1$I::pg_catalog.text, $2, r.%2$I::pg_catalog.text, last.stage,
                GREATEST($3, last.exited_at), ''track_lifecycle'', CURRENT_USER
           FROM %3$s r
           LEFT JOIN LATERAL (SELECT h.stage, h.exited_at FROM @extschema@.stage_history h
                               WHERE h.entity OPERATOR(pg_catalog.=) $1
                                 AND h.entity_key OPERATOR(pg_catalog.=) r.%1$I::pg_catalog.text
                               ORDER BY h.exited_at DESC, h.history_id DESC LIMIT 1) last ON true
          WHERE r.%2$I IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM @extschema@.stage_history h
                             WHERE h.entity OPERATOR(pg_catalog.=) $1
                               AND h.entity_key OPERATOR(pg_catalog.=) r.%1$I::pg_catalog.text
                               AND h.exited_at IS NULL)',
        keycol, stage_column, tbl) USING tbl, m.model, now_ts;

    INSERT INTO @extschema@.tracked_table (tbl, stage_column, key_column, model)
    VALUES (tbl, stage_column, keycol, m.model);

    EXECUTE pg_catalog.format(
        'CREATE TRIGGER cdp_lifecycle AFTER INSERT OR UPDATE OR DELETE ON %s
           FOR EACH ROW EXECUTE FUNCTION @extschema@.lifecycle_trigger()', tbl);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER cdp_lifecycle_truncate AFTER TRUNCATE ON %s
           FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lifecycle_trigger()', tbl);
END
$$;
COMMENT ON FUNCTION @extschema@.track_lifecycle(regclass, name, text) IS 'Puts a table with a single-column primary key under lifecycle control: stage changes are validated against the model and recorded in cdp.stage_history; existing rows get an open stay';

-- VOLATILE: drops triggers.
CREATE FUNCTION @extschema@.untrack_lifecycle(tbl regclass)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'untrack_lifecycle argument must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) untrack_lifecycle.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not tracked', tbl
            USING ERRCODE = '55000',
                  HINT = 'Tracked tables are listed in cdp.tracked_table.';
    END IF;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS cdp_lifecycle ON %s', tbl);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS cdp_lifecycle_truncate ON %s', tbl);
END
$$;
COMMENT ON FUNCTION @extschema@.untrack_lifecycle(regclass) IS 'Stops lifecycle control of a table; its stage history is kept (tracking it again brings the history in line with the rows)';

-- VOLATILE: changes a row.
CREATE FUNCTION @extschema@.set_stage(tbl regclass, key text, stage text, reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t @extschema@.tracked_table;
    keytype text;
    stagetype text;
    prev text;
    n bigint;
    outer_reason text;
BEGIN
    IF tbl IS NULL OR key IS NULL THEN
        RAISE EXCEPTION 'set_stage needs a table and a key' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO t FROM @extschema@.tracked_table tt WHERE tt.tbl OPERATOR(pg_catalog.=) set_stage.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table "%" is not tracked', tbl
            USING ERRCODE = '55000',
                  HINT = 'Call cdp.track_lifecycle first.';
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO keytype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) t.key_column;
    SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) INTO stagetype
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) tbl AND a.attname OPERATOR(pg_catalog.=) t.stage_column;

    -- The reason travels to the trigger as cdp.stage_reason, for this UPDATE
    -- only: the caller's setting is put back afterwards (an error undoes it
    -- anyway).  Without a reason, the caller's cdp.stage_reason applies.
    outer_reason := pg_catalog.current_setting('cdp.stage_reason', true);
    IF reason IS NOT NULL THEN
        PERFORM pg_catalog.set_config('cdp.stage_reason', reason, true);
    END IF;

    EXECUTE pg_catalog.format('SELECT %I::pg_catalog.text FROM %s WHERE %I OPERATOR(pg_catalog.=) $1::%s FOR NO KEY UPDATE',
                              t.stage_column, tbl, t.key_column, keytype)
       INTO prev USING key;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'no row with key "%" in "%"', key, tbl
            USING ERRCODE = 'P0002';
    END IF;
    EXECUTE pg_catalog.format('UPDATE %s SET %I = $1::%s WHERE %I OPERATOR(pg_catalog.=) $2::%s',
                              tbl, t.stage_column, stagetype, t.key_column, keytype)
       USING stage, key;
    IF reason IS NOT NULL THEN
        PERFORM pg_catalog.set_config('cdp.stage_reason', coalesce(outer_reason, ''), true);
    END IF;
    RETURN prev;
END
$$;
COMMENT ON FUNCTION @extschema@.set_stage(regclass, text, text, text) IS 'Moves one entity of a tracked table to a stage, with an optional reason (needed for backward moves); returns the previous stage';

CREATE VIEW @extschema@.time_in_stage AS
SELECT h.entity,
       h.entity_key,
       h.stage,
       pg_catalog.count(*) AS visits,
       pg_catalog.max(h.entered_at) AS latest_entered_at,
       (pg_catalog.array_agg(coalesce(h.exited_at, pg_catalog.now()) OPERATOR(pg_catalog.-) h.entered_at
                             ORDER BY h.entered_at DESC, h.history_id DESC))[1] AS latest_duration,
       pg_catalog.sum(coalesce(h.exited_at, pg_catalog.now()) OPERATOR(pg_catalog.-) h.entered_at) AS cumulative_duration
  FROM @extschema@.stage_history h
 GROUP BY h.entity, h.entity_key, h.stage;
COMMENT ON VIEW @extschema@.time_in_stage IS 'Time in stage (阶段停留时间) per entity and stage: number of visits, the latest stay and the total; open stays count up to now()';
COMMENT ON COLUMN @extschema@.time_in_stage.entity IS 'Tracked table';
COMMENT ON COLUMN @extschema@.time_in_stage.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.time_in_stage.stage IS 'Stage';
COMMENT ON COLUMN @extschema@.time_in_stage.visits IS 'How many times the entity entered the stage';
COMMENT ON COLUMN @extschema@.time_in_stage.latest_entered_at IS 'When the entity last entered the stage';
COMMENT ON COLUMN @extschema@.time_in_stage.latest_duration IS 'Length of the latest stay (up to now() if still open)';
COMMENT ON COLUMN @extschema@.time_in_stage.cumulative_duration IS 'Total time spent in the stage over all stays';

CREATE VIEW @extschema@.stage_moves AS
SELECT m.entity,
       m.entity_key,
       m.model,
       m.previous_stage AS from_stage,
       m.stage AS to_stage,
       m.entered_at AS moved_at,
       CASE
           WHEN m.previous_stage IS NULL THEN 'entry'
           WHEN f.stage IS NULL OR t.stage IS NULL THEN 'unknown'
           WHEN t.is_exit THEN 'exit'
           WHEN f.is_exit THEN 'reactivation'
           WHEN t.position OPERATOR(pg_catalog.<) f.position THEN 'backward'
           WHEN skipped.n OPERATOR(pg_catalog.>) 0 THEN 'skip'
           ELSE 'forward'
       END AS kind,
       CASE WHEN NOT f.is_exit AND NOT t.is_exit AND t.position OPERATOR(pg_catalog.>) f.position
            THEN skipped.n END AS stages_skipped,
       CASE WHEN m.previous_stage IS NOT NULL
            THEN m.entered_at OPERATOR(pg_catalog.-) m.previous_entered_at END AS time_in_previous_stage,
       m.reason,
       m.changed_by
  FROM (SELECT h.*,
               pg_catalog.lag(h.entered_at) OVER (PARTITION BY h.entity, h.entity_key
                                                  ORDER BY h.entered_at, h.history_id) AS previous_entered_at
          FROM @extschema@.stage_history h) m
  LEFT JOIN @extschema@.lifecycle_stage f
         ON f.model OPERATOR(pg_catalog.=) m.model AND f.stage OPERATOR(pg_catalog.=) m.previous_stage
  LEFT JOIN @extschema@.lifecycle_stage t
         ON t.model OPERATOR(pg_catalog.=) m.model AND t.stage OPERATOR(pg_catalog.=) m.stage
  LEFT JOIN LATERAL (
        SELECT pg_catalog.count(*)::integer AS n
          FROM @extschema@.lifecycle_stage b
         WHERE b.model OPERATOR(pg_catalog.=) m.model AND NOT b.is_exit
           AND NOT f.is_exit AND NOT t.is_exit
           AND b.position OPERATOR(pg_catalog.>) f.position
           AND b.position OPERATOR(pg_catalog.<) t.position) skipped ON true;
COMMENT ON VIEW @extschema@.stage_moves IS 'Every stage change (阶段变更) classified as entry, forward, skip, backward (回退), exit, reactivation, with the time spent in the stage it left: the raw material for velocity and regression metrics';
COMMENT ON COLUMN @extschema@.stage_moves.entity IS 'Tracked table';
COMMENT ON COLUMN @extschema@.stage_moves.entity_key IS 'Primary key of the entity, as text';
COMMENT ON COLUMN @extschema@.stage_moves.model IS 'Lifecycle model';
COMMENT ON COLUMN @extschema@.stage_moves.from_stage IS 'Stage left (NULL for an entry)';
COMMENT ON COLUMN @extschema@.stage_moves.to_stage IS 'Stage entered';
COMMENT ON COLUMN @extschema@.stage_moves.moved_at IS 'When the move happened';
COMMENT ON COLUMN @extschema@.stage_moves.kind IS 'entry, forward, skip (forward over open stages), backward, exit, reactivation (out of an exit), or unknown (a stage no longer in the model)';
COMMENT ON COLUMN @extschema@.stage_moves.stages_skipped IS 'Open stages jumped over by a forward move (0 for a plain forward move, NULL when not applicable)';
COMMENT ON COLUMN @extschema@.stage_moves.time_in_previous_stage IS 'How long the entity stayed in the stage it left (NULL for an entry, or after the entity was deleted and inserted again)';
COMMENT ON COLUMN @extschema@.stage_moves.reason IS 'Reason given for the move';
COMMENT ON COLUMN @extschema@.stage_moves.changed_by IS 'Role that made the move';

-- Dropping a tracked table forgets its history: the regclass values would
-- otherwise dangle and make a dump impossible to restore.
-- SECURITY DEFINER: whoever may drop a table may forget its history, even
-- without privileges on cdp.stage_history.
CREATE FUNCTION @extschema@.lifecycle_on_drop() RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    obj record;
BEGIN
    -- DROP EXTENSION cdp: the history is gone already
    IF pg_catalog.to_regclass('@extschema@.stage_history') IS NULL THEN
        RETURN;
    END IF;
    FOR obj IN SELECT * FROM pg_catalog.pg_event_trigger_dropped_objects()
                WHERE object_type IN ('table', 'partitioned table') LOOP
        DELETE FROM @extschema@.stage_history h WHERE h.entity::pg_catalog.oid OPERATOR(pg_catalog.=) obj.objid;
        DELETE FROM @extschema@.tracked_table t WHERE t.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) obj.objid;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.lifecycle_on_drop() IS 'Event trigger: forgets the tracking and stage history of dropped tables';

CREATE EVENT TRIGGER cdp_lifecycle_on_drop ON sql_drop
    EXECUTE FUNCTION @extschema@.lifecycle_on_drop();

-- Out of the box: the reference tables are tracked.
SELECT @extschema@.track_lifecycle('@extschema@.account', 'stage', 'b2b');
SELECT @extschema@.track_lifecycle('@extschema@.lead', 'stage', 'b2b');
SELECT @extschema@.track_lifecycle('@extschema@.opportunity', 'stage', 'opportunity');
UPDATE @extschema@.tracked_table SET builtin = true;

-- The models are configuration, not personal data: anyone may read them, so
-- that the trigger can validate the change of any role allowed to change a
-- tracked table.  The history itself is written by the trigger with the
-- extension's authority (see lifecycle.c) and needs no grant.
GRANT SELECT ON @extschema@.lifecycle_model, @extschema@.lifecycle_stage,
                @extschema@.lifecycle_transition, @extschema@.tracked_table TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_model', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_stage', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lifecycle_transition', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_table', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stage_history_history_id_seq', '');

-- ==== src/normalize.sql ====

-- normalize.sql: the ICU normalisation pipeline (src/normalize.c) as SQL.
--
-- These functions are IMMUTABLE in the sense PostgreSQL gives ICU collations:
-- their results depend on the ICU version the server runs with (see
-- cdp.build_info()), and an expression index built on them must be
-- reindexed after an ICU upgrade that changes the transliteration data.

CREATE FUNCTION @extschema@.normalize_text(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_text(text) IS 'Text in the form cdp compares names in: NFKC, full-width to half-width, Traditional to Simplified Chinese, case folded (ICU transliterators)';

CREATE FUNCTION @extschema@.pinyin(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_pinyin'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pinyin(text) IS 'Toneless pinyin of the normalised text, one syllable per Han character, words separated by spaces (贵州茅台 -> gui zhou mao tai)';

CREATE FUNCTION @extschema@.pinyin_initials(t text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_pinyin_initials'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.pinyin_initials(text) IS 'First letter of every pinyin syllable and of every other word, without spaces (广州 -> gz)';

-- ==== src/company.sql ====

-- company.sql: company keys and similarity (src/company.c), the trigram
-- index on cdp.account, match_accounts, lead-to-account matching,
-- duplicates and merges.
--
-- The C functions declare COST 100 (ICU normalisation, a few microseconds a
-- call, a hundred times an operator): with the default cost of 1 the planner
-- would rather evaluate them over every row than probe the index.

CREATE FUNCTION @extschema@.company_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_key(text) IS 'Canonical company name: normalised (width, case, Traditional to Simplified), bracketed parts, punctuation and trailing legal forms (ISO 20275 ELF list) removed; NULL when nothing identifying is left';

CREATE FUNCTION @extschema@.company_key_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_key_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_key_similarity(text, text) IS 'cdp.company_similarity on two values already produced by cdp.company_key';

CREATE FUNCTION @extschema@.company_similarity(a text, b text) RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_similarity'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_similarity(text, text) IS 'Similarity of two company names in [0, 1], symmetric: key bigrams, short name (简称) against full name, pinyin against Han';

-- STABLE, not IMMUTABLE: the answer depends on cdp.company_match_threshold
CREATE FUNCTION @extschema@.company_match(a text, b text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_company_match'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_match(text, text) IS 'true when cdp.company_similarity(a, b) reaches cdp.company_match_threshold';

-- STABLE: reads the GUC
CREATE FUNCTION @extschema@.company_match_threshold() RETURNS real
    AS 'MODULE_PATHNAME', 'cdp_company_threshold'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_match_threshold() IS 'Current value of cdp.company_match_threshold as a real';

CREATE FUNCTION @extschema@.company_search_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_search_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_search_key(text) IS 'Distinctive words of a company name for the trigram index on cdp.account: brand (字号) bigrams and pinyin, non-generic Latin words; region, industry and legal-form words left out';

CREATE FUNCTION @extschema@.company_pinyin_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_company_pinyin_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION @extschema@.company_pinyin_key(text) IS 'Toneless pinyin of the brand (字号) of a Han company name as one word (贵州茅台酒股份有限公司 -> maotai); NULL without Han; held by the second trigram index on cdp.account';

-- VOLATILE: it changes what other sessions see in pg_stat_activity
CREATE FUNCTION @extschema@.report_progress(message text) RETURNS void
    AS 'MODULE_PATHNAME', 'cdp_report_progress'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.report_progress(text) IS 'Shows message as this backend''s pg_stat_activity.query (progress of a long cdp operation, readable by any session at once); NULL restores the statement text';

-- Install-time helper: pg_trgm may live in any schema (PostgreSQL 15 has no
-- @extschema:name@), so the statements that name its operators and operator
-- class are written with TRGM_SCHEMA and run through this function, which
-- substitutes pg_trgm's schema once.  Dropped at the end of this script.
CREATE FUNCTION @extschema@.install_with_trgm(body text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.replace(body, 'TRGM_SCHEMA',
        (SELECT pg_catalog.quote_ident(e.extnamespace::pg_catalog.regnamespace::pg_catalog.text)
           FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_trgm'));
END
$$;

-- The index match_accounts and find_duplicate_accounts probe.  It holds the
-- search key, not the name: region, industry and legal-form words would make
-- every probe visit a large part of the table.  fastupdate is off: with a
-- pending list every probe reads all recently inserted entries one by one
-- (2 ms after a bulk load of 20,000 accounts), and a lookup per incoming
-- lead matters more than bulk-load speed.
SELECT @extschema@.install_with_trgm($sql$
CREATE INDEX account_name_search_idx ON @extschema@.account
    USING gin (@extschema@.company_search_key(name) TRGM_SCHEMA.gin_trgm_ops)
    WITH (fastupdate = off);
CREATE INDEX account_name_pinyin_idx ON @extschema@.account
    USING gin (@extschema@.company_pinyin_key(name) TRGM_SCHEMA.gin_trgm_ops)
    WITH (fastupdate = off)
$sql$);

-- ---------------------------------------------------------------------------
-- match_accounts
-- ---------------------------------------------------------------------------

-- The domain part of a web address or e-mail address, lower case, without
-- scheme, "www.", port and path; NULL for free mail providers, which say
-- nothing about the company.
CREATE FUNCTION @extschema@.email_domain(address text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN d.d OPERATOR(pg_catalog.=) '' OR d.d OPERATOR(pg_catalog.=) ANY (ARRAY[
               'gmail.com', 'googlemail.com', 'hotmail.com', 'outlook.com', 'live.com',
               'yahoo.com', 'icloud.com', 'me.com', 'aol.com', 'qq.com', 'foxmail.com',
               '163.com', '126.com', 'yeah.net', 'sina.com', 'sina.cn', 'sohu.com',
               '139.com', 'aliyun.com', 'tom.com', '21cn.com'])
           THEN NULL ELSE d.d END
      FROM (SELECT pg_catalog.regexp_replace(pg_catalog.regexp_replace(pg_catalog.regexp_replace(
                   pg_catalog.lower(pg_catalog.btrim(address)),
                   '^([a-z][a-z0-9+.-]*://)?([^@/]*@)?(www\.)?', ''),
                   '[:/?#].*$', ''), '\.$', '') AS d) d;
END;
COMMENT ON FUNCTION @extschema@.email_domain(text) IS 'Company domain of an e-mail or web address (lower case, no scheme, www., port or path); NULL for free mail providers such as qq.com, 163.com and gmail.com';

SELECT @extschema@.install_with_trgm($fn$
CREATE FUNCTION @extschema@.match_accounts(name text, domain text DEFAULT NULL, k integer DEFAULT 5)
RETURNS TABLE (account_id bigint, account_name text, score real, matched_by text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
SET pg_trgm.similarity_threshold = 0.4
SET pg_trgm.word_similarity_threshold = 0.6
AS $body$
-- STABLE: reads cdp.account.  PARALLEL RESTRICTED: its SET clauses cannot
-- be applied in a parallel worker.  The name probe is "search key % query search
-- key" (similar as a whole, threshold 0.4) or "query search key <% search
-- key" (the query is a word of the account's key, 0.6: 百度 in 百度网讯) on
-- account_name_search_idx (GIN, pg_trgm), and for a name without Han
-- also "pinyin key % the name's words" on account_name_pinyin_idx; every
-- candidate is then scored with company_similarity on the keys.
DECLARE
    d text := @extschema@.email_domain(domain);
    qkey text;
    qsearch text;
    qpinyin text;
BEGIN
    IF k IS NULL OR k < 1 OR k > 1000 THEN
        RAISE EXCEPTION 'k must be between 1 and 1000, not %', coalesce(k::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF name IS NOT NULL THEN
        qkey := @extschema@.company_key(name);
        qsearch := @extschema@.company_search_key(name);
        -- a name without Han may be pinyin: probe the pinyin index too
        IF qsearch IS NOT NULL AND @extschema@.company_pinyin_key(name) IS NULL THEN
            qpinyin := pg_catalog.replace(qsearch, ' ', '');
        END IF;
    END IF;
    IF qkey IS NULL AND d IS NULL THEN
        IF name IS NULL AND domain IS NULL THEN
            RAISE EXCEPTION 'match_accounts needs a name or a domain'
                USING ERRCODE = '22004';
        END IF;
        RETURN;             -- nothing identifying: no candidates, not an error
    END IF;
    RETURN QUERY
    SELECT c.account_id, c.name, max(c.score)::real,
           string_agg(DISTINCT c.how, '+' ORDER BY c.how)
      FROM (SELECT a.account_id, a.name, 1.0::real AS score, 'domain'::text AS how
              FROM @extschema@.account a
             WHERE d IS NOT NULL
               AND pg_catalog.lower(a.domain) OPERATOR(pg_catalog.=) d
            UNION ALL
            SELECT m.account_id, m.name,
                   @extschema@.company_key_similarity(qkey, m.akey),
                   CASE WHEN m.akey OPERATOR(pg_catalog.=) qkey THEN 'key' ELSE 'name' END
              FROM (SELECT a.account_id, a.name, @extschema@.company_key(a.name) AS akey
                      FROM @extschema@.account a
                     WHERE qsearch IS NOT NULL
                       AND (@extschema@.company_search_key(a.name) OPERATOR(TRGM_SCHEMA.%) qsearch
                            OR qsearch OPERATOR(TRGM_SCHEMA.<%) @extschema@.company_search_key(a.name))
                    UNION
                    SELECT a.account_id, a.name, @extschema@.company_key(a.name)
                      FROM @extschema@.account a
                     WHERE qpinyin IS NOT NULL
                       AND @extschema@.company_pinyin_key(a.name) OPERATOR(TRGM_SCHEMA.%) qpinyin) m) c
     GROUP BY c.account_id, c.name
     ORDER BY 3 DESC, 1
     LIMIT k;
END;
$body$;
$fn$);
COMMENT ON FUNCTION @extschema@.match_accounts(text, text, integer) IS 'Accounts that may be the company named (and with the web or e-mail domain given), best first: score in [0, 1], matched_by domain, key (same canonical name) or name (similar name), joined with + when several apply; index-backed, never a scan of all accounts';

-- ---------------------------------------------------------------------------
-- Lead-to-account matching
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.lead_match (
    lead_id bigint PRIMARY KEY
        REFERENCES @extschema@.lead ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    status text NOT NULL CHECK (status IN ('matched', 'review', 'unmatched')),
    account_id bigint REFERENCES @extschema@.account,
    score real CHECK (score BETWEEN 0 AND 1),
    matched_by text,
    runner_up_id bigint REFERENCES @extschema@.account,
    runner_up_score real CHECK (runner_up_score BETWEEN 0 AND 1),
    threshold real NOT NULL,
    matched_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.lead_match IS 'Outcome of matching each lead to an account (线索归属): matched leads got account_id, review leads wait for a person (see cdp.lead_match_review)';
COMMENT ON COLUMN @extschema@.lead_match.lead_id IS 'Lead that was matched';
COMMENT ON COLUMN @extschema@.lead_match.status IS 'matched (account_id set on the lead), review (uncertain: below the threshold but close, or two accounts too close to call) or unmatched';
COMMENT ON COLUMN @extschema@.lead_match.account_id IS 'Best candidate account';
COMMENT ON COLUMN @extschema@.lead_match.score IS 'Score of the best candidate, in [0, 1]';
COMMENT ON COLUMN @extschema@.lead_match.matched_by IS 'How the best candidate was found: domain, key, name, joined with +';
COMMENT ON COLUMN @extschema@.lead_match.runner_up_id IS 'Second-best candidate account, if any';
COMMENT ON COLUMN @extschema@.lead_match.runner_up_score IS 'Score of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match.threshold IS 'cdp.company_match_threshold in force when the lead was matched';
COMMENT ON COLUMN @extschema@.lead_match.matched_at IS 'When the lead was last matched';
CREATE INDEX lead_match_account_idx ON @extschema@.lead_match (account_id);
CREATE INDEX lead_match_runner_up_idx ON @extschema@.lead_match (runner_up_id);
CREATE INDEX lead_match_review_idx ON @extschema@.lead_match (matched_at) WHERE status = 'review';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lead_match', '');

CREATE FUNCTION @extschema@.company_key_too_long(name text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(pg_catalog.octet_length(name) > 1024, false);
END;
COMMENT ON FUNCTION @extschema@.company_key_too_long(text) IS 'true when a name is longer than cdp.company_key accepts (1024 bytes)';

CREATE FUNCTION @extschema@.lead_match_payload(lead_id bigint, account_id bigint, owner name, score real, matched_by text)
RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.json_build_object('lead_id', lead_id, 'account_id', account_id,
                                        'owner', owner, 'score', score, 'matched_by', matched_by)::text;
END;
COMMENT ON FUNCTION @extschema@.lead_match_payload(bigint, bigint, name, real, text) IS 'JSON payload of the cdp_lead_matched notification: {"lead_id", "account_id", "owner", "score", "matched_by"}';

CREATE FUNCTION @extschema@.lead_match_trigger() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
-- BEFORE INSERT OR UPDATE OF company_name, email on cdp.lead.  A lead whose
-- account_id the writer set is left alone; on UPDATE, account_id is only
-- replaced when the matcher itself had set it.
DECLARE
    threshold real := @extschema@.company_match_threshold();
    r record;
    best_id bigint;
    best_score real;
    best_by text;
    second_id bigint;
    second_score real;
    status text;
    prev_status text;
    prev_account bigint;
    owner_name name;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.company_name IS NOT DISTINCT FROM OLD.company_name
           AND NEW.email IS NOT DISTINCT FROM OLD.email THEN
            RETURN NEW;
        END IF;
        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN
            RETURN NEW;             -- the writer chose the account
        END IF;
        SELECT m.status, m.account_id INTO prev_status, prev_account
          FROM @extschema@.lead_match m WHERE m.lead_id OPERATOR(pg_catalog.=) NEW.lead_id;
        IF NEW.account_id IS NOT NULL
           AND NOT (prev_status IS NOT DISTINCT FROM 'matched'
                    AND prev_account IS NOT DISTINCT FROM NEW.account_id) THEN
            RETURN NEW;             -- set by someone else earlier
        END IF;
        NEW.account_id := NULL;     -- the matcher's earlier choice is void
    ELSIF NEW.account_id IS NOT NULL THEN
        RETURN NEW;
    END IF;

    -- a name longer than company_key accepts is matched by its e-mail
    -- domain only; the lead is stored either way
    IF @extschema@.company_key_too_long(NEW.company_name)
       AND @extschema@.email_domain(NEW.email) IS NOT NULL THEN
        FOR r IN SELECT * FROM @extschema@.match_accounts(NULL, @extschema@.email_domain(NEW.email), 2)
        LOOP
            IF best_id IS NULL THEN
                best_id := r.account_id; best_score := r.score; best_by := r.matched_by;
            ELSE
                second_id := r.account_id; second_score := r.score;
            END IF;
        END LOOP;
    ELSIF NOT @extschema@.company_key_too_long(NEW.company_name)
          AND (NEW.company_name IS NOT NULL OR @extschema@.email_domain(NEW.email) IS NOT NULL) THEN
        FOR r IN SELECT * FROM @extschema@.match_accounts(NEW.company_name, @extschema@.email_domain(NEW.email), 2)
        LOOP
            IF best_id IS NULL THEN
                best_id := r.account_id; best_score := r.score; best_by := r.matched_by;
            ELSE
                second_id := r.account_id; second_score := r.score;
            END IF;
        END LOOP;
    END IF;

    -- confident: at or above the threshold and clearly ahead of the
    -- runner-up (or found by domain while the runner-up was not)
    IF best_id IS NULL THEN
        status := 'unmatched';
    ELSIF best_score >= threshold
          AND (second_id IS NULL OR second_score < best_score - 0.05
               OR (best_by LIKE 'domain%' AND second_score < 1)) THEN
        status := 'matched';
    ELSIF best_score >= threshold - 0.15 THEN
        status := 'review';
    ELSE
        status := 'unmatched';
    END IF;

    INSERT INTO @extschema@.lead_match AS m (lead_id, status, account_id, score, matched_by,
                                             runner_up_id, runner_up_score, threshold)
    VALUES (NEW.lead_id, status, best_id, best_score, best_by, second_id, second_score, threshold)
    ON CONFLICT (lead_id) DO UPDATE
       SET status = EXCLUDED.status, account_id = EXCLUDED.account_id,
           score = EXCLUDED.score, matched_by = EXCLUDED.matched_by,
           runner_up_id = EXCLUDED.runner_up_id, runner_up_score = EXCLUDED.runner_up_score,
           threshold = EXCLUDED.threshold, matched_at = pg_catalog.now();

    IF status OPERATOR(pg_catalog.=) 'matched' THEN
        NEW.account_id := best_id;
        SELECT a.owner INTO owner_name
          FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) best_id;
        IF owner_name IS NOT NULL THEN
            PERFORM pg_catalog.pg_notify('cdp_lead_matched',
                @extschema@.lead_match_payload(NEW.lead_id, best_id, owner_name, best_score, best_by));
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION @extschema@.lead_match_trigger() IS 'Trigger on cdp.lead: matches a new lead, or one whose company_name or email changed, to an account (domain first, then name); confident matches set account_id and notify the account owner on channel cdp_lead_matched';

CREATE TRIGGER lead_match BEFORE INSERT OR UPDATE OF company_name, email ON @extschema@.lead
    FOR EACH ROW EXECUTE FUNCTION @extschema@.lead_match_trigger();

CREATE VIEW @extschema@.lead_match_review AS
SELECT m.lead_id, l.company_name, l.email, m.account_id, a.name AS account_name, m.score,
       m.matched_by, m.runner_up_id, r.name AS runner_up_name, m.runner_up_score,
       CASE WHEN m.score >= m.threshold THEN 'ambiguous' ELSE 'below threshold' END AS reason,
       m.matched_at
  FROM @extschema@.lead_match m
  JOIN @extschema@.lead l ON l.lead_id = m.lead_id
  LEFT JOIN @extschema@.account a ON a.account_id = m.account_id
  LEFT JOIN @extschema@.account r ON r.account_id = m.runner_up_id
 WHERE m.status = 'review' AND l.account_id IS NULL;
COMMENT ON VIEW @extschema@.lead_match_review IS 'Leads whose account match is uncertain (待人工确认的线索归属): set cdp.lead.account_id to settle one';
COMMENT ON COLUMN @extschema@.lead_match_review.lead_id IS 'Lead to review';
COMMENT ON COLUMN @extschema@.lead_match_review.company_name IS 'Company name as the lead wrote it';
COMMENT ON COLUMN @extschema@.lead_match_review.email IS 'E-mail of the lead';
COMMENT ON COLUMN @extschema@.lead_match_review.account_id IS 'Best candidate account';
COMMENT ON COLUMN @extschema@.lead_match_review.account_name IS 'Name of the best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.score IS 'Score of the best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.matched_by IS 'How the best candidate was found';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_id IS 'Second-best candidate account';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_name IS 'Name of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.runner_up_score IS 'Score of the second-best candidate';
COMMENT ON COLUMN @extschema@.lead_match_review.reason IS 'ambiguous (two candidates too close) or below threshold';
COMMENT ON COLUMN @extschema@.lead_match_review.matched_at IS 'When the lead was matched';

-- ---------------------------------------------------------------------------
-- Duplicates and merges
-- ---------------------------------------------------------------------------

SELECT @extschema@.install_with_trgm($fn$
CREATE FUNCTION @extschema@.find_duplicate_accounts(threshold real DEFAULT NULL)
RETURNS TABLE (cluster_id bigint, account_id bigint, account_name text, score real)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET pg_trgm.similarity_threshold = 0.4
SET pg_trgm.word_similarity_threshold = 0.6
AS $body$
-- VOLATILE, PARALLEL UNSAFE: writes temporary tables and reports progress
-- (cdp.report_progress).  Blocking: every account
-- probes account_name_search_idx for the accounts sharing its distinctive
-- trigrams, and accounts with the same domain are paired; only those pairs
-- are scored.  Work grows with the number of accounts, not its square.
-- Pairs at or above the threshold are joined into clusters (connected
-- components); cluster_id is the smallest account_id of the cluster, score
-- the best score of the account with another member.
DECLARE
    th real := coalesce(threshold, @extschema@.company_match_threshold());
    total bigint;
    done bigint := 0;
    lo bigint := -9223372036854775808;
    hi bigint;
    n bigint;
    changed boolean := true;
BEGIN
    IF th < 0 OR th > 1 OR th = 'NaN'::real THEN
        RAISE EXCEPTION 'threshold must be between 0 and 1, not %', th USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO total FROM @extschema@.account;
    CREATE TEMP TABLE IF NOT EXISTS cdp_dup_pair (a bigint, b bigint, score real) ON COMMIT DROP;
    TRUNCATE cdp_dup_pair;
    -- batches of 1000 accounts, set-based, with progress between batches
    LOOP
        SELECT max(x.account_id), count(*) INTO hi, n
          FROM (SELECT a.account_id FROM @extschema@.account a
                 WHERE a.account_id > lo ORDER BY a.account_id LIMIT 1000) x;
        EXIT WHEN hi IS NULL;
        -- EXECUTE: planned for these bounds every time; a cached generic
        -- plan may pick a join that compares the batch with every account
        EXECUTE $q$
        INSERT INTO cdp_dup_pair
        SELECT c.a, c.b, c.score
          FROM (SELECT a.account_id AS a, b.account_id AS b,
                       @extschema@.company_key_similarity(@extschema@.company_key(a.name),
                                                          @extschema@.company_key(b.name)) AS score
                  FROM @extschema@.account a
                  JOIN @extschema@.account b
                    ON (@extschema@.company_search_key(b.name) OPERATOR(TRGM_SCHEMA.%)
                        @extschema@.company_search_key(a.name)
                        OR @extschema@.company_search_key(a.name) OPERATOR(TRGM_SCHEMA.<%)
                           @extschema@.company_search_key(b.name))
                   AND b.account_id OPERATOR(pg_catalog.+) 0 > a.account_id  -- not an index condition
                 WHERE a.account_id > $1 AND a.account_id <= $2) c
         WHERE c.score >= $3$q$ USING lo, hi, th;
        done := done + n;
        lo := hi;
        PERFORM @extschema@.report_progress(pg_catalog.format(
            'cdp.find_duplicate_accounts: %s of %s accounts compared', done, total));
    END LOOP;
    INSERT INTO cdp_dup_pair
    SELECT a.account_id, b.account_id, 1.0
      FROM @extschema@.account a
      JOIN @extschema@.account b ON pg_catalog.lower(b.domain) = pg_catalog.lower(a.domain)
       AND b.account_id > a.account_id
     WHERE a.domain IS NOT NULL AND a.domain <> '';

    -- connected components by label propagation over the pairs
    CREATE TEMP TABLE IF NOT EXISTS cdp_dup_label (id bigint PRIMARY KEY, label bigint) ON COMMIT DROP;
    TRUNCATE cdp_dup_label;
    INSERT INTO cdp_dup_label SELECT x, x FROM (SELECT a AS x FROM cdp_dup_pair UNION SELECT b FROM cdp_dup_pair) v;
    WHILE changed LOOP
        WITH m AS (
            SELECT p.a AS id, min(l2.label) AS label
              FROM cdp_dup_pair p JOIN cdp_dup_label l2 ON l2.id = p.b GROUP BY p.a
            UNION ALL
            SELECT p.b, min(l1.label)
              FROM cdp_dup_pair p JOIN cdp_dup_label l1 ON l1.id = p.a GROUP BY p.b),
        u AS (UPDATE cdp_dup_label l SET label = m2.label
                FROM (SELECT m.id, min(m.label) AS label FROM m GROUP BY m.id) m2
               WHERE l.id = m2.id AND m2.label < l.label RETURNING 1)
        SELECT count(*) > 0 INTO changed FROM u;
    END LOOP;
    PERFORM @extschema@.report_progress(NULL);

    RETURN QUERY
    SELECT l.label, l.id, a.name,
           (SELECT max(p.score) FROM cdp_dup_pair p WHERE p.a = l.id OR p.b = l.id)
      FROM cdp_dup_label l
      JOIN @extschema@.account a ON a.account_id = l.id
     ORDER BY l.label, l.id;
END;
$body$;
$fn$);
COMMENT ON FUNCTION @extschema@.find_duplicate_accounts(real) IS 'Clusters of accounts that look like the same company (重复客户), found by index blocking (trigram index on the search key, equal domains), never by comparing all pairs; threshold defaults to cdp.company_match_threshold';

CREATE TABLE @extschema@.account_merge_log (
    merge_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survivor_id bigint NOT NULL,
    duplicate_id bigint NOT NULL,
    duplicate_row jsonb NOT NULL,
    repointed jsonb NOT NULL,
    set_aside jsonb NOT NULL DEFAULT '[]',
    history jsonb NOT NULL DEFAULT '[]',
    merged_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    merged_by name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE @extschema@.account_merge_log IS 'One row per account merge (客户合并记录): the merged (deleted) account row and what was re-pointed, so nothing is lost';
COMMENT ON COLUMN @extschema@.account_merge_log.merge_id IS 'Merge identifier';
COMMENT ON COLUMN @extschema@.account_merge_log.survivor_id IS 'Account that was kept';
COMMENT ON COLUMN @extschema@.account_merge_log.duplicate_id IS 'Account that was merged into the survivor and deleted';
COMMENT ON COLUMN @extschema@.account_merge_log.duplicate_row IS 'The deleted account row, as JSON';
COMMENT ON COLUMN @extschema@.account_merge_log.repointed IS 'Rows re-pointed per referencing column, {"table.column": count}, stage history included';
COMMENT ON COLUMN @extschema@.account_merge_log.set_aside IS 'Rows of the duplicate that a unique constraint kept from being re-pointed (the survivor already had one): {table, row} objects; they were deleted after being logged here';
COMMENT ON COLUMN @extschema@.account_merge_log.history IS 'The duplicate''s stage history rows before the merge, as JSON (their stays are re-keyed and clipped)';
COMMENT ON COLUMN @extschema@.account_merge_log.merged_at IS 'When the merge ran';
COMMENT ON COLUMN @extschema@.account_merge_log.merged_by IS 'Role that ran the merge';
CREATE INDEX account_merge_log_survivor_idx ON @extschema@.account_merge_log (survivor_id);
CREATE INDEX account_merge_log_duplicate_idx ON @extschema@.account_merge_log (duplicate_id);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_merge_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_merge_log_merge_id_seq', '');

CREATE FUNCTION @extschema@.merge_accounts(survivor bigint, duplicate bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
-- Re-points every row that references the duplicate to the survivor, in one
-- transaction, and deletes the duplicate after logging it.  The referencing
-- columns are read from the catalog (every single-column foreign key to
-- cdp.account, in any schema), so tables added later are covered.  Returns
-- the number of rows re-pointed.
DECLARE
    fk record;
    n bigint;
    total bigint := 0;
    counts jsonb := '{}';
    aside jsonb := '[]';
    hist jsonb;
    dup_row jsonb;
    surv_parent bigint;
    dup_parent bigint;
    step int := 0;
    steps int;
    r record;
    acct regclass := '@extschema@.account'::regclass;
BEGIN
    IF survivor IS NULL OR duplicate IS NULL THEN
        RAISE EXCEPTION 'merge_accounts needs a survivor and a duplicate' USING ERRCODE = '22004';
    END IF;
    IF survivor = duplicate THEN
        RAISE EXCEPTION 'cannot merge account % into itself', survivor USING ERRCODE = '22023';
    END IF;
    -- lock both rows, in key order so that concurrent merges cannot deadlock
    PERFORM 1 FROM @extschema@.account a
      WHERE a.account_id IN (survivor, duplicate) ORDER BY a.account_id FOR UPDATE;
    SELECT to_jsonb(a.*), a.parent_account_id INTO dup_row, dup_parent
      FROM @extschema@.account a WHERE a.account_id = duplicate;
    IF dup_row IS NULL THEN
        RAISE EXCEPTION 'account % does not exist', duplicate USING ERRCODE = 'P0002';
    END IF;
    SELECT a.parent_account_id INTO surv_parent FROM @extschema@.account a WHERE a.account_id = survivor;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not exist', survivor USING ERRCODE = 'P0002';
    END IF;

    SELECT count(*) INTO steps FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confrelid = acct AND array_length(c.conkey, 1) = 1
       AND c.conparentid = 0;

    FOR fk IN
        SELECT c.conrelid::regclass AS tbl, a.attname AS col
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND c.confrelid = acct AND array_length(c.conkey, 1) = 1
           AND c.conparentid = 0       -- a partitioned table's, not each partition's
         ORDER BY c.conrelid::regclass::text, a.attname
    LOOP
        step := step + 1;
        PERFORM @extschema@.report_progress(format(
            'cdp.merge_accounts(%s, %s): step %s of %s, %s.%s', survivor, duplicate,
            step, steps + 1, fk.tbl, fk.col));
        IF fk.tbl = acct AND fk.col = 'parent_account_id' THEN
            -- children of the duplicate become children of the survivor; a
            -- survivor that was the duplicate's child takes its parent
            EXECUTE format('UPDATE %s SET %I = $1 WHERE %I = $2 AND account_id <> $1',
                           fk.tbl, fk.col, fk.col) USING survivor, duplicate;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF surv_parent = duplicate THEN
                UPDATE @extschema@.account a
                   SET parent_account_id = CASE WHEN dup_parent = survivor THEN NULL ELSE dup_parent END
                 WHERE a.account_id = survivor;
                n := n + 1;
            END IF;
        ELSE
            BEGIN
                EXECUTE format('UPDATE %s SET %I = $1 WHERE %I = $2', fk.tbl, fk.col, fk.col)
                  USING survivor, duplicate;
                GET DIAGNOSTICS n = ROW_COUNT;
            EXCEPTION WHEN unique_violation THEN
                -- the survivor already has the row a unique key allows once:
                -- re-point row by row, and log then delete the ones that clash
                n := 0;
                FOR r IN EXECUTE format('SELECT ctid AS tid, to_jsonb(t.*) AS j FROM %s t WHERE %I = $1',
                                        fk.tbl, fk.col) USING duplicate
                LOOP
                    BEGIN
                        EXECUTE format('UPDATE %s SET %I = $1 WHERE ctid = $2', fk.tbl, fk.col)
                          USING survivor, r.tid;
                        n := n + 1;
                    EXCEPTION WHEN unique_violation THEN
                        aside := aside || jsonb_build_object('table', fk.tbl::text, 'column', fk.col::text, 'row', r.j);
                        EXECUTE format('DELETE FROM %s WHERE ctid = $1', fk.tbl) USING r.tid;
                    END;
                END LOOP;
            END;
        END IF;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(fk.tbl::text || '.' || fk.col, n);
            total := total + n;
        END IF;
    END LOOP;

    -- Stage history is keyed by (entity, entity_key), not by a foreign key.
    -- The survivor's stays stand; each stay of the duplicate is re-keyed to
    -- the survivor and clipped so that no two stays overlap and only the
    -- survivor's stay stays open: it ends where the survivor's next stay
    -- begins (or now, if it was open), and a stay that began inside one of
    -- the survivor's stays becomes a zero-length stay at its start.
    PERFORM @extschema@.report_progress(format(
        'cdp.merge_accounts(%s, %s): step %s of %s, stage history', survivor, duplicate,
        steps + 1, steps + 1));
    IF to_regclass('@extschema@.stage_history') IS NOT NULL THEN
        SELECT coalesce(jsonb_agg(to_jsonb(h.*) ORDER BY h.entered_at, h.history_id), '[]')
          INTO hist
          FROM @extschema@.stage_history h
         WHERE h.entity = acct AND h.entity_key = duplicate::text;
        WITH s AS (
            SELECT h.entered_at, h.exited_at FROM @extschema@.stage_history h
             WHERE h.entity = acct AND h.entity_key = survivor::text),
        d AS (
            SELECT h.history_id, h.entered_at,
                   CASE WHEN EXISTS (SELECT 1 FROM s
                                      WHERE s.entered_at <= h.entered_at
                                        AND (s.exited_at IS NULL OR s.exited_at > h.entered_at))
                        THEN h.entered_at
                        ELSE least(coalesce(h.exited_at, greatest(now(), h.entered_at)),
                                   coalesce((SELECT min(s.entered_at) FROM s
                                              WHERE s.entered_at > h.entered_at), 'infinity'))
                   END AS new_exit
              FROM @extschema@.stage_history h
             WHERE h.entity = acct AND h.entity_key = duplicate::text)
        UPDATE @extschema@.stage_history h
           SET entity_key = survivor::text, exited_at = d.new_exit
          FROM d
         WHERE h.history_id = d.history_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object('@extschema@.stage_history.entity_key', n);
            total := total + n;
        END IF;
    ELSE
        hist := '[]';
    END IF;

    DELETE FROM @extschema@.account a WHERE a.account_id = duplicate;
    INSERT INTO @extschema@.account_merge_log (survivor_id, duplicate_id, duplicate_row, repointed, set_aside, history)
    VALUES (survivor, duplicate, dup_row, counts, aside, hist);
    PERFORM @extschema@.report_progress(NULL);
    RETURN total;
END;
$$;
COMMENT ON FUNCTION @extschema@.merge_accounts(bigint, bigint) IS 'Merges duplicate into survivor (合并客户) in one transaction: every row referencing the duplicate through a foreign key (found in the catalog, so later tables are covered) and its stage history are re-pointed, the duplicate row is logged in cdp.account_merge_log and deleted; returns the number of rows re-pointed; progress in pg_stat_activity.query';

DROP FUNCTION @extschema@.install_with_trgm(text);

-- ==== src/city.sql ====

-- city.sql: canonical Chinese cities (cdp.city_key) on reference data derived
-- from ../shared/data/cn_cities.csv (GB/T 2260 prefecture-level divisions).
--
-- cdp.city holds one row per division; cdp.city_alias every spelling that
-- names one: the full name (广州市), the short name (广州), the pinyin of the
-- source (guangzhou, spaces and apostrophes dropped) and the abbreviation made
-- of pinyin initials (gz).  Initials come from ICU's Han-Latin reading of the
-- short name, except the first letter, which is taken from the source pinyin
-- because ICU reads some place names with the wrong polyphone (长沙 "zhang
-- sha", 厦门 "sha men"); that keeps CS and XM right.
--
-- An alias shared by several divisions (collision) resolves to the only
-- provincial capital or municipality among them (code ending in 0100: GZ is
-- 广州, not 赣州; fuzhou is 福州, not 抚州); when there is none or more than one,
-- the alias is kept with city_code NULL and city_key returns NULL for it
-- (SZ: 深圳, 苏州, 宿州, 随州, 朔州 ...): unknown or ambiguous input is never
-- guessed.  cdp.city_alias.candidates lists the divisions an alias collides on.

CREATE TABLE @extschema@.city (
    city_code text PRIMARY KEY CHECK (city_code ~ '^[0-9]{6}$'),
    name text NOT NULL UNIQUE,
    short_name text NOT NULL,
    province_code text NOT NULL CHECK (province_code ~ '^[0-9]{2}0000$'),
    pinyin text NOT NULL,
    phone_area_code text,
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.city IS 'Chinese prefecture-level cities and divisions (地级行政区), from GB/T 2260 via cn_cities.csv; reference data for cdp.city_key';
COMMENT ON COLUMN @extschema@.city.city_code IS 'GB/T 2260 division code, e.g. 440100';
COMMENT ON COLUMN @extschema@.city.name IS 'Official name, e.g. 广州市; what cdp.city_key returns';
COMMENT ON COLUMN @extschema@.city.short_name IS 'Short name, e.g. 广州';
COMMENT ON COLUMN @extschema@.city.province_code IS 'Code of the province-level division, e.g. 440000';
COMMENT ON COLUMN @extschema@.city.pinyin IS 'Romanised name as in the source, e.g. Guangzhou, Hohhot';
COMMENT ON COLUMN @extschema@.city.phone_area_code IS 'Telephone area code, e.g. 020';
COMMENT ON COLUMN @extschema@.city.builtin IS 'true for the rows shipped with cdp; pg_dump keeps only the others';

-- BEGIN generated city rows (tools/gen-company-data.py)
INSERT INTO @extschema@.city (city_code, name, short_name, province_code, pinyin, phone_area_code) VALUES
    ('110100', '北京市', '北京', '110000', 'Beijing', '010'),
    ('120100', '天津市', '天津', '120000', 'Tianjin', '022'),
    ('130100', '石家庄市', '石家庄', '130000', 'Shijiazhuang', '0311'),
    ('130200', '唐山市', '唐山', '130000', 'Tangshan', '0315'),
    ('130300', '秦皇岛市', '秦皇岛', '130000', 'Qinhuangdao', '0335'),
    ('130400', '邯郸市', '邯郸', '130000', 'Handan', '0310'),
    ('130500', '邢台市', '邢台', '130000', 'Xingtai', '0319'),
    ('130600', '保定市', '保定', '130000', 'Baoding', '0312'),
    ('130700', '张家口市', '张家口', '130000', 'Zhangjiakou', '0313'),
    ('130800', '承德市', '承德', '130000', 'Chengde', '0314'),
    ('130900', '沧州市', '沧州', '130000', 'Cangzhou', '0317'),
    ('131000', '廊坊市', '廊坊', '130000', 'Langfang', '0316'),
    ('131100', '衡水市', '衡水', '130000', 'Hengshui', '0318'),
    ('140100', '太原市', '太原', '140000', 'Taiyuan', '0351'),
    ('140200', '大同市', '大同', '140000', 'Datong', '0352'),
    ('140300', '阳泉市', '阳泉', '140000', 'Yangquan', '0353'),
    ('140400', '长治市', '长治', '140000', 'Changzhi', '0355'),
    ('140500', '晋城市', '晋城', '140000', 'Jincheng', '0356'),
    ('140600', '朔州市', '朔州', '140000', 'Shuozhou', '0349'),
    ('140700', '晋中市', '晋中', '140000', 'Jinzhong', '0354'),
    ('140800', '运城市', '运城', '140000', 'Yuncheng', '0359'),
    ('140900', '忻州市', '忻州', '140000', 'Xinzhou', '0350'),
    ('141000', '临汾市', '临汾', '140000', 'Linfen', '0357'),
    ('141100', '吕梁市', '吕梁', '140000', 'Lvliang', '0358'),
    ('150100', '呼和浩特市', '呼和浩特', '150000', 'Hohhot', '0471'),
    ('150200', '包头市', '包头', '150000', 'Baotou', '0472'),
    ('150300', '乌海市', '乌海', '150000', 'Wuhai', '0473'),
    ('150400', '赤峰市', '赤峰', '150000', 'Chifeng', '0476'),
    ('150500', '通辽市', '通辽', '150000', 'Tongliao', '0475'),
    ('150600', '鄂尔多斯市', '鄂尔多斯', '150000', 'Ordos', '0477'),
    ('150700', '呼伦贝尔市', '呼伦贝尔', '150000', 'Hulunber', '0470'),
    ('150800', '巴彦淖尔市', '巴彦淖尔', '150000', 'Bayan Nur', '0478'),
    ('150900', '乌兰察布市', '乌兰察布', '150000', 'Ulanqab', '0474'),
    ('152200', '兴安盟', '兴安盟', '150000', 'Hinggan', '0482'),
    ('152500', '锡林郭勒盟', '锡林郭勒盟', '150000', 'Xilin Gol', '0479'),
    ('152900', '阿拉善盟', '阿拉善盟', '150000', 'Alxa', '0483'),
    ('210100', '沈阳市', '沈阳', '210000', 'Shenyang', '024'),
    ('210200', '大连市', '大连', '210000', 'Dalian', '0411'),
    ('210300', '鞍山市', '鞍山', '210000', 'Anshan', '0412'),
    ('210400', '抚顺市', '抚顺', '210000', 'Fushun', '024'),
    ('210500', '本溪市', '本溪', '210000', 'Benxi', '0414'),
    ('210600', '丹东市', '丹东', '210000', 'Dandong', '0415'),
    ('210700', '锦州市', '锦州', '210000', 'Jinzhou', '0416'),
    ('210800', '营口市', '营口', '210000', 'Yingkou', '0417'),
    ('210900', '阜新市', '阜新', '210000', 'Fuxin', '0418'),
    ('211000', '辽阳市', '辽阳', '210000', 'Liaoyang', '0419'),
    ('211100', '盘锦市', '盘锦', '210000', 'Panjin', '0427'),
    ('211200', '铁岭市', '铁岭', '210000', 'Tieling', '024'),
    ('211300', '朝阳市', '朝阳', '210000', 'Chaoyang', '0421'),
    ('211400', '葫芦岛市', '葫芦岛', '210000', 'Huludao', '0429'),
    ('211500', '金普新区', '金普新区', '210000', 'Jinpuxinqu', '0411'),
    ('220100', '长春市', '长春', '220000', 'Changchun', '0431'),
    ('220200', '吉林市', '吉林', '220000', 'Jilin', '0432'),
    ('220300', '四平市', '四平', '220000', 'Siping', '0434'),
    ('220400', '辽源市', '辽源', '220000', 'Liaoyuan', '0437'),
    ('220500', '通化市', '通化', '220000', 'Tonghua', '0435'),
    ('220600', '白山市', '白山', '220000', 'Baishan', '0439'),
    ('220700', '松原市', '松原', '220000', 'Songyuan', '0438'),
    ('220800', '白城市', '白城', '220000', 'Baicheng', '0436'),
    ('222400', '延边朝鲜族自治州', '延边', '220000', 'Yanbian', '0433'),
    ('230100', '哈尔滨市', '哈尔滨', '230000', 'Harbin', '0451'),
    ('230200', '齐齐哈尔市', '齐齐哈尔', '230000', 'Qiqihar', '0452'),
    ('230300', '鸡西市', '鸡西', '230000', 'Jixi', '0467'),
    ('230400', '鹤岗市', '鹤岗', '230000', 'Hegang', '0468'),
    ('230500', '双鸭山市', '双鸭山', '230000', 'Shuangyashan', '0469'),
    ('230600', '大庆市', '大庆', '230000', 'Daqing', '0459'),
    ('230700', '伊春市', '伊春', '230000', 'Yichun', '0458'),
    ('230800', '佳木斯市', '佳木斯', '230000', 'Jiamusi', '0454'),
    ('230900', '七台河市', '七台河', '230000', 'Qitaihe', '0464'),
    ('231000', '牡丹江市', '牡丹江', '230000', 'Mudanjiang', '0453'),
    ('231100', '黑河市', '黑河', '230000', 'Heihe', '0456'),
    ('231200', '绥化市', '绥化', '230000', 'Suihua', '0455'),
    ('232700', '大兴安岭地区', '大兴安岭', '230000', 'DaXingAnLing', '0457'),
    ('310100', '上海市', '上海', '310000', 'Shanghai', '021'),
    ('320100', '南京市', '南京', '320000', 'Nanjing', '025'),
    ('320200', '无锡市', '无锡', '320000', 'Wuxi', '0510'),
    ('320300', '徐州市', '徐州', '320000', 'Xuzhou', '0516'),
    ('320400', '常州市', '常州', '320000', 'Changzhou', '0519'),
    ('320500', '苏州市', '苏州', '320000', 'Suzhou', '0512'),
    ('320600', '南通市', '南通', '320000', 'Nantong', '0513'),
    ('320700', '连云港市', '连云港', '320000', 'Lianyungang', '0518'),
    ('320800', '淮安市', '淮安', '320000', 'Huai''an', '0517'),
    ('320900', '盐城市', '盐城', '320000', 'Yancheng', '0515'),
    ('321000', '扬州市', '扬州', '320000', 'Yangzhou', '0514'),
    ('321100', '镇江市', '镇江', '320000', 'Zhenjiang', '0511'),
    ('321200', '泰州市', '泰州', '320000', 'Taizhou', '0523'),
    ('321300', '宿迁市', '宿迁', '320000', 'Suqian', '0527'),
    ('330100', '杭州市', '杭州', '330000', 'Hangzhou', '0571'),
    ('330200', '宁波市', '宁波', '330000', 'Ningbo', '0574'),
    ('330300', '温州市', '温州', '330000', 'Wenzhou', '0577'),
    ('330400', '嘉兴市', '嘉兴', '330000', 'Jiaxing', '0573'),
    ('330500', '湖州市', '湖州', '330000', 'Huzhou', '0572'),
    ('330600', '绍兴市', '绍兴', '330000', 'Shaoxing', '0575'),
    ('330700', '金华市', '金华', '330000', 'Jinhua', '0579'),
    ('330800', '衢州市', '衢州', '330000', 'Quzhou', '0570'),
    ('330900', '舟山市', '舟山', '330000', 'Zhoushan', '0580'),
    ('331000', '台州市', '台州', '330000', 'Taizhou', '0576'),
    ('331100', '丽水市', '丽水', '330000', 'Lishui', '0578'),
    ('331200', '舟山群岛新区', '舟山新区', '330000', 'Zhoushan', '0580'),
    ('340100', '合肥市', '合肥', '340000', 'Hefei', '0551'),
    ('340200', '芜湖市', '芜湖', '340000', 'Wuhu', '0551'),
    ('340300', '蚌埠市', '蚌埠', '340000', 'Bengbu', '0552'),
    ('340400', '淮南市', '淮南', '340000', 'Huainan', '0554'),
    ('340500', '马鞍山市', '马鞍山', '340000', 'Ma''anshan', '0555'),
    ('340600', '淮北市', '淮北', '340000', 'Huaibei', '0561'),
    ('340700', '铜陵市', '铜陵', '340000', 'Tongling', '0562'),
    ('340800', '安庆市', '安庆', '340000', 'Anqing', '0556'),
    ('341000', '黄山市', '黄山', '340000', 'Huangshan', '0559'),
    ('341100', '滁州市', '滁州', '340000', 'Chuzhou', '0550'),
    ('341200', '阜阳市', '阜阳', '340000', 'Fuyang', '0558'),
    ('341300', '宿州市', '宿州', '340000', 'Suzhou', '0557'),
    ('341500', '六安市', '六安', '340000', 'Lu''an', '0564'),
    ('341600', '亳州市', '亳州', '340000', 'Bozhou', '0558'),
    ('341700', '池州市', '池州', '340000', 'Chizhou', '0566'),
    ('341800', '宣城市', '宣城', '340000', 'Xuancheng', '0563'),
    ('350100', '福州市', '福州', '350000', 'Fuzhou', '0591'),
    ('350200', '厦门市', '厦门', '350000', 'Xiamen', '0592'),
    ('350300', '莆田市', '莆田', '350000', 'Putian', '0594'),
    ('350400', '三明市', '三明', '350000', 'Sanming', '0598'),
    ('350500', '泉州市', '泉州', '350000', 'Quanzhou', '0595'),
    ('350600', '漳州市', '漳州', '350000', 'Zhangzhou', '0596'),
    ('350700', '南平市', '南平', '350000', 'Nanping', '0599'),
    ('350800', '龙岩市', '龙岩', '350000', 'Longyan', '0597'),
    ('350900', '宁德市', '宁德', '350000', 'Ningde', '0593'),
    ('360100', '南昌市', '南昌', '360000', 'Nanchang', '0791'),
    ('360200', '景德镇市', '景德镇', '360000', 'Jingdezhen', '0798'),
    ('360300', '萍乡市', '萍乡', '360000', 'Pingxiang', '0799'),
    ('360400', '九江市', '九江', '360000', 'Jiujiang', '0792'),
    ('360500', '新余市', '新余', '360000', 'Xinyu', '0790'),
    ('360600', '鹰潭市', '鹰潭', '360000', 'Yingtan', '0701'),
    ('360700', '赣州市', '赣州', '360000', 'Ganzhou', '0797'),
    ('360800', '吉安市', '吉安', '360000', 'Ji''an', '0796'),
    ('360900', '宜春市', '宜春', '360000', 'Yichun', '0795'),
    ('361000', '抚州市', '抚州', '360000', 'Fuzhou', '0794'),
    ('361100', '上饶市', '上饶', '360000', 'Shangrao', '0793'),
    ('370100', '济南市', '济南', '370000', 'Jinan', '0531'),
    ('370200', '青岛市', '青岛', '370000', 'Qingdao', '0532'),
    ('370300', '淄博市', '淄博', '370000', 'Zibo', '0533'),
    ('370400', '枣庄市', '枣庄', '370000', 'Zaozhuang', '0632'),
    ('370500', '东营市', '东营', '370000', 'Dongying', '0546'),
    ('370600', '烟台市', '烟台', '370000', 'Yantai', '0535'),
    ('370700', '潍坊市', '潍坊', '370000', 'Weifang', '0536'),
    ('370800', '济宁市', '济宁', '370000', 'Jining', '0537'),
    ('370900', '泰安市', '泰安', '370000', 'Tai''an', '0538'),
    ('371000', '威海市', '威海', '370000', 'Weihai', '0631'),
    ('371100', '日照市', '日照', '370000', 'Rizhao', '0633'),
    ('371200', '莱芜市', '莱芜', '370000', 'Laiwu', '0634'),
    ('371300', '临沂市', '临沂', '370000', 'Linyi', '0539'),
    ('371400', '德州市', '德州', '370000', 'Dezhou', '0534'),
    ('371500', '聊城市', '聊城', '370000', 'Liaocheng', '0635'),
    ('371600', '滨州市', '滨州', '370000', 'Binzhou', '0543'),
    ('371700', '菏泽市', '菏泽', '370000', 'Heze', '0530'),
    ('410100', '郑州市', '郑州', '410000', 'Zhengzhou', '0371'),
    ('410200', '开封市', '开封', '410000', 'Kaifeng', '0378'),
    ('410300', '洛阳市', '洛阳', '410000', 'Luoyang', '0379'),
    ('410400', '平顶山市', '平顶山', '410000', 'Pingdingshan', '0375'),
    ('410500', '安阳市', '安阳', '410000', 'Anyang', '0372'),
    ('410600', '鹤壁市', '鹤壁', '410000', 'Hebi', '0392'),
    ('410700', '新乡市', '新乡', '410000', 'Xinxiang', '0373'),
    ('410800', '焦作市', '焦作', '410000', 'Jiaozuo', '0391'),
    ('410900', '濮阳市', '濮阳', '410000', 'Puyang', '0393'),
    ('411000', '许昌市', '许昌', '410000', 'Xuchang', '0374'),
    ('411100', '漯河市', '漯河', '410000', 'Luohe', '0395'),
    ('411200', '三门峡市', '三门峡', '410000', 'Sanmenxia', '0398'),
    ('411300', '南阳市', '南阳', '410000', 'Nanyang', '0377'),
    ('411400', '商丘市', '商丘', '410000', 'Shangqiu', '0370'),
    ('411500', '信阳市', '信阳', '410000', 'Xinyang', '0376'),
    ('411600', '周口市', '周口', '410000', 'Zhoukou', '0394'),
    ('411700', '驻马店市', '驻马店', '410000', 'Zhumadian', '0396'),
    ('420100', '武汉市', '武汉', '420000', 'Wuhan', NULL),
    ('420200', '黄石市', '黄石', '420000', 'Huangshi', '0714'),
    ('420300', '十堰市', '十堰', '420000', 'Shiyan', '0719'),
    ('420500', '宜昌市', '宜昌', '420000', 'Yichang', '0717'),
    ('420600', '襄阳市', '襄阳', '420000', 'Xiangyang', '0710'),
    ('420700', '鄂州市', '鄂州', '420000', 'Ezhou', '0711'),
    ('420800', '荆门市', '荆门', '420000', 'Jingmen', '0724'),
    ('420900', '孝感市', '孝感', '420000', 'Xiaogan', '0712'),
    ('421000', '荆州市', '荆州', '420000', 'Jingzhou', '0716'),
    ('421100', '黄冈市', '黄冈', '420000', 'Huanggang', '0713'),
    ('421200', '咸宁市', '咸宁', '420000', 'Xianning', '0715'),
    ('421300', '随州市', '随州', '420000', 'Suizhou', '0722'),
    ('422800', '恩施土家族苗族自治州', '恩施', '420000', 'Enshi', '0718'),
    ('430100', '长沙市', '长沙', '430000', 'Changsha', '0731'),
    ('430200', '株洲市', '株洲', '430000', 'Zhuzhou', '0731'),
    ('430300', '湘潭市', '湘潭', '430000', 'Xiangtan', '0731'),
    ('430400', '衡阳市', '衡阳', '430000', 'Hengyang', '0734'),
    ('430500', '邵阳市', '邵阳', '430000', 'Shaoyang', '0739'),
    ('430600', '岳阳市', '岳阳', '430000', 'Yueyang', '0730'),
    ('430700', '常德市', '常德', '430000', 'Changde', '0736'),
    ('430800', '张家界市', '张家界', '430000', 'Zhangjiajie', '0744'),
    ('430900', '益阳市', '益阳', '430000', 'Yiyang', '0737'),
    ('431000', '郴州市', '郴州', '430000', 'Chenzhou', '0735'),
    ('431100', '永州市', '永州', '430000', 'Yongzhou', '0746'),
    ('431200', '怀化市', '怀化', '430000', 'Huaihua', '0745'),
    ('431300', '娄底市', '娄底', '430000', 'Loudi', '0738'),
    ('433100', '湘西土家族苗族自治州', '湘西', '430000', 'Xiangxi', '0743'),
    ('440100', '广州市', '广州', '440000', 'Guangzhou', '020'),
    ('440200', '韶关市', '韶关', '440000', 'Shaoguan', '0751'),
    ('440300', '深圳市', '深圳', '440000', 'Shenzhen', '0755'),
    ('440400', '珠海市', '珠海', '440000', 'Zhuhai', '0756'),
    ('440500', '汕头市', '汕头', '440000', 'Shantou', '0754'),
    ('440600', '佛山市', '佛山', '440000', 'Foshan', '0757'),
    ('440700', '江门市', '江门', '440000', 'Jiangmen', '0750'),
    ('440800', '湛江市', '湛江', '440000', 'Zhanjiang', '0759'),
    ('440900', '茂名市', '茂名', '440000', 'Maoming', '0668'),
    ('441200', '肇庆市', '肇庆', '440000', 'Zhaoqing', '0758'),
    ('441300', '惠州市', '惠州', '440000', 'Huizhou', '0752'),
    ('441400', '梅州市', '梅州', '440000', 'Meizhou', '0753'),
    ('441500', '汕尾市', '汕尾', '440000', 'Shanwei', '0660'),
    ('441600', '河源市', '河源', '440000', 'Heyuan', '0762'),
    ('441700', '阳江市', '阳江', '440000', 'Yangjiang', '0662'),
    ('441800', '清远市', '清远', '440000', 'Qingyuan', '0763'),
    ('441900', '东莞市', '东莞', '440000', 'Dongguan', '0769'),
    ('442000', '中山市', '中山', '440000', 'Zhongshan', '0760'),
    ('445100', '潮州市', '潮州', '440000', 'Chaozhou', '0768'),
    ('445200', '揭阳市', '揭阳', '440000', 'Jieyang', '0633'),
    ('445300', '云浮市', '云浮', '440000', 'Yunfu', '0766'),
    ('450100', '南宁市', '南宁', '450000', 'Nanning', '0771'),
    ('450200', '柳州市', '柳州', '450000', 'Liuzhou', '0772'),
    ('450300', '桂林市', '桂林', '450000', 'Guilin', '0773'),
    ('450400', '梧州市', '梧州', '450000', 'Wuzhou', '0774'),
    ('450500', '北海市', '北海', '450000', 'Beihai', '0779'),
    ('450600', '防城港市', '防城港', '450000', 'Fangchenggang', '0770'),
    ('450700', '钦州市', '钦州', '450000', 'Qinzhou', '0777'),
    ('450800', '贵港市', '贵港', '450000', 'Guigang', '0775'),
    ('450900', '玉林市', '玉林', '450000', 'Yulin', '0775'),
    ('451000', '百色市', '百色', '450000', 'Baise', '0776'),
    ('451100', '贺州市', '贺州', '450000', 'Hezhou', '0774'),
    ('451200', '河池市', '河池', '450000', 'Hechi', '0778'),
    ('451300', '来宾市', '来宾', '450000', 'Laibin', '0772'),
    ('451400', '崇左市', '崇左', '450000', 'Chongzuo', '0771'),
    ('460100', '海口市', '海口', '460000', 'Haikou', '0898'),
    ('460200', '三亚市', '三亚', '460000', 'Sanya', '0898'),
    ('460300', '三沙市', '三沙', '460000', 'Sansha', '0898'),
    ('500100', '重庆市', '重庆', '500000', 'Chongqing', '023'),
    ('500300', '两江新区', '两江新区', '500000', 'Liangjiangxinqu', '023'),
    ('510100', '成都市', '成都', '510000', 'Chengdu', '028'),
    ('510300', '自贡市', '自贡', '510000', 'Zigong', '0813'),
    ('510400', '攀枝花市', '攀枝花', '510000', 'Panzhihua', '0812'),
    ('510500', '泸州市', '泸州', '510000', 'Luzhou', '0830'),
    ('510600', '德阳市', '德阳', '510000', 'Deyang', '0838'),
    ('510700', '绵阳市', '绵阳', '510000', 'Mianyang', '0816'),
    ('510800', '广元市', '广元', '510000', 'Guangyuan', '0839'),
    ('510900', '遂宁市', '遂宁', '510000', 'Suining', '0825'),
    ('511000', '内江市', '内江', '510000', 'Neijiang', '0832'),
    ('511100', '乐山市', '乐山', '510000', 'Leshan', '0833'),
    ('511300', '南充市', '南充', '510000', 'Nanchong', '0817'),
    ('511400', '眉山市', '眉山', '510000', 'Meishan', '028'),
    ('511500', '宜宾市', '宜宾', '510000', 'Yibin', '0831'),
    ('511600', '广安市', '广安', '510000', 'Guang''an', '0826'),
    ('511700', '达州市', '达州', '510000', 'Dazhou', '0818'),
    ('511800', '雅安市', '雅安', '510000', 'Ya''an', '0835'),
    ('511900', '巴中市', '巴中', '510000', 'Bazhong', '0827'),
    ('512000', '资阳市', '资阳', '510000', 'Ziyang', '028'),
    ('513200', '阿坝藏族羌族自治州', '阿坝', '510000', 'Aba', '0837'),
    ('513300', '甘孜藏族自治州', '甘孜', '510000', 'Garze', '0836'),
    ('513400', '凉山彝族自治州', '凉山', '510000', 'Liangshan', '0834'),
    ('520100', '贵阳市', '贵阳', '520000', 'Guiyang', '0851'),
    ('520200', '六盘水市', '六盘水', '520000', 'Liupanshui', '0858'),
    ('520300', '遵义市', '遵义', '520000', 'Zunyi', '0852'),
    ('520400', '安顺市', '安顺', '520000', 'Anshun', '0853'),
    ('520500', '毕节市', '毕节', '520000', 'Bijie', '0857'),
    ('520600', '铜仁市', '铜仁', '520000', 'Tongren', '0856'),
    ('522300', '黔西南布依族苗族自治州', '黔西南', '520000', 'Qianxinan', '0859'),
    ('522600', '黔东南苗族侗族自治州', '黔东南', '520000', 'Qiandongnan', '0855'),
    ('522700', '黔南布依族苗族自治州', '黔南', '520000', 'Qiannan', '0854'),
    ('530100', '昆明市', '昆明', '530000', 'Kunming', '0871'),
    ('530300', '曲靖市', '曲靖', '530000', 'Qujing', '0874'),
    ('530400', '玉溪市', '玉溪', '530000', 'Yuxi', '0877'),
    ('530500', '保山市', '保山', '530000', 'Baoshan', '0875'),
    ('530600', '昭通市', '昭通', '530000', 'Zhaotong', '0870'),
    ('530700', '丽江市', '丽江', '530000', 'Lijiang', '0888'),
    ('530800', '普洱市', '普洱', '530000', 'Pu''er', '0879'),
    ('530900', '临沧市', '临沧', '530000', 'Lincang', '0883'),
    ('532300', '楚雄彝族自治州', '楚雄', '530000', 'Chuxiong', '0878'),
    ('532500', '红河哈尼族彝族自治州', '红河', '530000', 'Honghe', '0873'),
    ('532600', '文山壮族苗族自治州', '文山', '530000', 'Wenshan', '0876'),
    ('532800', '西双版纳傣族自治州', '西双版纳', '530000', 'Xishuangbanna', '0691'),
    ('532900', '大理白族自治州', '大理', '530000', 'Dali', '0872'),
    ('533100', '德宏傣族景颇族自治州', '德宏', '530000', 'Dehong', '0692'),
    ('533300', '怒江傈僳族自治州', '怒江', '530000', 'Nujiang', '0886'),
    ('533400', '迪庆藏族自治州', '迪庆', '530000', 'Deqen', '0887'),
    ('540100', '拉萨市', '拉萨', '540000', 'Lhasa', '0891'),
    ('540200', '日喀则市', '日喀则', '540000', 'Rikaze', '0892'),
    ('540300', '昌都市', '昌都', '540000', 'Qamdo', '0895'),
    ('542200', '山南地区', '山南', '540000', 'Shannan', '0893'),
    ('542400', '那曲地区', '那曲', '540000', 'Nagqu', '0896'),
    ('542500', '阿里地区', '阿里', '540000', 'Ngari', '0897'),
    ('542600', '林芝地区', '林芝', '540000', 'Nyingchi', '0894'),
    ('610100', '西安市', '西安', '610000', 'Xi''an', '029'),
    ('610200', '铜川市', '铜川', '610000', 'Tongchuan', '0919'),
    ('610300', '宝鸡市', '宝鸡', '610000', 'Baoji', '0917'),
    ('610400', '咸阳市', '咸阳', '610000', 'Xianyang', '029'),
    ('610500', '渭南市', '渭南', '610000', 'Weinan', '0913'),
    ('610600', '延安市', '延安', '610000', 'Yan''an', '0911'),
    ('610700', '汉中市', '汉中', '610000', 'Hanzhong', '0916'),
    ('610800', '榆林市', '榆林', '610000', 'Yulin', '0912'),
    ('610900', '安康市', '安康', '610000', 'Ankang', '0915'),
    ('611000', '商洛市', '商洛', '610000', 'Shangluo', '0914'),
    ('611100', '西咸新区', '西咸', '610000', 'Xixian', '029'),
    ('620100', '兰州市', '兰州', '620000', 'Lanzhou', '0931'),
    ('620200', '嘉峪关市', '嘉峪关', '620000', 'Jiayuguan', '0937'),
    ('620300', '金昌市', '金昌', '620000', 'Jinchang', '0935'),
    ('620400', '白银市', '白银', '620000', 'Baiyin', '0943'),
    ('620500', '天水市', '天水', '620000', 'Tianshui', '0938'),
    ('620600', '武威市', '武威', '620000', 'Wuwei', '0935'),
    ('620700', '张掖市', '张掖', '620000', 'Zhangye', '0936'),
    ('620800', '平凉市', '平凉', '620000', 'Pingliang', '0933'),
    ('620900', '酒泉市', '酒泉', '620000', 'Jiuquan', '0937'),
    ('621000', '庆阳市', '庆阳', '620000', 'Qingyang', '0934'),
    ('621100', '定西市', '定西', '620000', 'Dingxi', '0932'),
    ('621200', '陇南市', '陇南', '620000', 'Longnan', '0939'),
    ('622900', '临夏回族自治州', '临夏', '620000', 'Linxia', '0930'),
    ('623000', '甘南藏族自治州', '甘南', '620000', 'Gannan', '0941'),
    ('630100', '西宁市', '西宁', '630000', 'Xining', '0971'),
    ('630200', '海东市', '海东', '630000', 'Haidong', '0972'),
    ('632200', '海北藏族自治州', '海北', '630000', 'Haibei', '0970'),
    ('632300', '黄南藏族自治州', '黄南', '630000', 'Huangnan', '0973'),
    ('632500', '海南藏族自治州', '海南', '630000', 'Hainan', '0974'),
    ('632600', '果洛藏族自治州', '果洛', '630000', 'Golog', '0975'),
    ('632700', '玉树藏族自治州', '玉树', '630000', 'Yushu', '0976'),
    ('632800', '海西蒙古族藏族自治州', '海西', '630000', 'Haixi', '0977'),
    ('640100', '银川市', '银川', '640000', 'Yinchuan', '0951'),
    ('640200', '石嘴山市', '石嘴山', '640000', 'Shizuishan', '0952'),
    ('640300', '吴忠市', '吴忠', '640000', 'Wuzhong', '0953'),
    ('640400', '固原市', '固原', '640000', 'Guyuan', '0954'),
    ('640500', '中卫市', '中卫', '640000', 'Zhongwei', '0955'),
    ('650100', '乌鲁木齐市', '乌鲁木齐', '650000', 'Urumqi', '0991'),
    ('650200', '克拉玛依市', '克拉玛依', '650000', 'Karamay', '0990'),
    ('652100', '吐鲁番地区', '吐鲁番', '650000', 'Turpan', '0995'),
    ('652200', '哈密地区', '哈密', '650000', 'Hami', '0902'),
    ('652300', '昌吉回族自治州', '昌吉', '650000', 'Changji', '0994'),
    ('652700', '博尔塔拉蒙古自治州', '博尔塔拉', '650000', 'Bortala', '0909'),
    ('652800', '巴音郭楞蒙古自治州', '巴音郭楞', '650000', 'Bayingol', '0996'),
    ('652900', '阿克苏地区', '阿克苏', '650000', 'Aksu', '0997'),
    ('653000', '克孜勒苏柯尔克孜自治州', '克孜勒苏', '650000', 'Kizilsu', '0908'),
    ('653100', '喀什地区', '喀什', '650000', 'Kashgar', '0998'),
    ('653200', '和田地区', '和田', '650000', 'Hotan', '0903'),
    ('654000', '伊犁哈萨克自治州', '伊犁', '650000', 'Ili', '0999'),
    ('654200', '塔城地区', '塔城', '650000', 'Qoqek', '0901'),
    ('654300', '阿勒泰地区', '阿勒泰', '650000', 'Altay', '0906'),
    ('710100', '台北市', '台北', '710000', 'Taipei', '02'),
    ('710200', '高雄市', '高雄', '710000', 'Kaohsiung', '07'),
    ('710300', '基隆市', '基隆', '710000', 'Keelung', '02'),
    ('710400', '台中市', '台中', '710000', 'Taichung', '04'),
    ('710500', '台南市', '台南', '710000', 'Tainan', '06'),
    ('710600', '新竹市', '新竹', '710000', 'Hsinchu', '03'),
    ('710700', '嘉义市', '嘉义', '710000', 'Chiayi', '05'),
    ('710800', '新北市', '新北', '710000', 'New Taipei', '02'),
    ('712200', '宜兰县', '宜兰', '710000', 'Yilan', '03'),
    ('712300', '桃园县', '桃园', '710000', 'Taoyuan', '03'),
    ('712400', '新竹县', '新竹', '710000', 'Hsinchu', '03'),
    ('712500', '苗栗县', '苗栗', '710000', 'Miaoli', '037'),
    ('712700', '彰化县', '彰化', '710000', 'Changhua', '04'),
    ('712800', '南投县', '南投', '710000', 'Nantou', '049'),
    ('712900', '云林县', '云林', '710000', 'Yunlin', '05'),
    ('713000', '嘉义县', '嘉义', '710000', 'Chiayi', '05'),
    ('713300', '屏东县', '屏东', '710000', 'Pingtung', '08'),
    ('713400', '台东县', '台东', '710000', 'Taitung', '089'),
    ('713500', '花莲县', '花莲', '710000', 'Hualien', '03'),
    ('713600', '澎湖县', '澎湖', '710000', 'Penghu', '06'),
    ('713700', '金门县', '金门', '710000', 'Jinmen', '082'),
    ('713800', '连江县', '连江', '710000', 'Lienchiang', '0836'),
    ('810100', '香港岛', '香港岛', '810000', 'Hong Kong Island', '00852'),
    ('810200', '九龙', '九龙', '810000', 'Kowloon', '00852'),
    ('810300', '新界', '新界', '810000', 'New Territories', '00852'),
    ('820100', '澳门半岛', '澳门半岛', '820000', 'MacauPeninsula', '00853'),
    ('820200', '氹仔岛', '氹仔岛', '820000', 'Taipa', '00853'),
    ('820300', '路环岛', '路环岛', '820000', 'Coloane', '00853');
-- END generated city rows
UPDATE @extschema@.city SET builtin = true;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.city', 'WHERE NOT builtin');

CREATE TABLE @extschema@.city_alias (
    alias text PRIMARY KEY CHECK (alias <> ''),
    city_code text REFERENCES @extschema@.city ON UPDATE CASCADE ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('name', 'short_name', 'pinyin', 'abbreviation', 'custom')),
    candidates text[] NOT NULL DEFAULT '{}',
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.city_alias IS 'Every spelling that names a city (城市别名): names, short names, pinyin, initials, and aliases users add (kind custom); city_code NULL marks an ambiguous alias';
COMMENT ON COLUMN @extschema@.city_alias.alias IS 'Spelling in matching form: normalised (cdp.normalize_text), lower case, without spaces and punctuation';
COMMENT ON COLUMN @extschema@.city_alias.city_code IS 'City the alias names; NULL when it names several and none is the provincial capital';
COMMENT ON COLUMN @extschema@.city_alias.kind IS 'name, short_name, pinyin, abbreviation (pinyin initials) or custom';
COMMENT ON COLUMN @extschema@.city_alias.candidates IS 'Codes of all cities the alias collides on (empty when it names one city only)';
COMMENT ON COLUMN @extschema@.city_alias.builtin IS 'true for the aliases shipped with cdp; pg_dump keeps only the others';

-- the matching form of a spelling (used for aliases and for city_key input)
CREATE FUNCTION @extschema@.city_alias_form(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.regexp_replace(@extschema@.normalize_text(name),
                                     '[[:space:][:punct:]·・]+', '', 'g');
END;
COMMENT ON FUNCTION @extschema@.city_alias_form(text) IS 'A city spelling in the form cdp.city_alias stores: normalised, lower case, spaces and punctuation removed (Guang Zhou -> guangzhou)';

-- the built-in aliases; a collision resolves as described at the top
WITH spelled AS (
    SELECT c.city_code, v.kind, v.prio, @extschema@.city_alias_form(v.alias) AS alias
      FROM @extschema@.city c
     CROSS JOIN LATERAL (VALUES
           (c.name, 'name', 1),
           (c.short_name, 'short_name', 2),
           (c.pinyin, 'pinyin', 3),
           (CASE WHEN pg_catalog.length(c.short_name) >= 2
                 THEN pg_catalog.lower(pg_catalog.left(pg_catalog.regexp_replace(c.pinyin, '[^A-Za-z]', '', 'g'), 1))
                      || pg_catalog.substr(@extschema@.pinyin_initials(c.short_name), 2)
            END, 'abbreviation', 4)) v(alias, kind, prio)
     WHERE v.alias IS NOT NULL
),
best AS (
    SELECT s.alias, s.kind, s.city_code
      FROM spelled s
     WHERE s.alias <> ''
       AND s.prio = (SELECT min(s2.prio) FROM spelled s2 WHERE s2.alias = s.alias)
),
grouped AS (
    SELECT b.alias, min(b.kind) AS kind,
           pg_catalog.array_agg(DISTINCT b.city_code ORDER BY b.city_code) AS codes
      FROM best b
     GROUP BY b.alias
)
INSERT INTO @extschema@.city_alias (alias, city_code, kind, candidates, builtin)
SELECT g.alias,
       CASE WHEN pg_catalog.cardinality(g.codes) = 1 THEN g.codes[1]
            WHEN (SELECT count(*) FROM pg_catalog.unnest(g.codes) x WHERE x LIKE '__0100') = 1
            THEN (SELECT x FROM pg_catalog.unnest(g.codes) x WHERE x LIKE '__0100')
       END,
       g.kind,
       CASE WHEN pg_catalog.cardinality(g.codes) > 1 THEN g.codes ELSE '{}' END,
       true
  FROM grouped g;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.city_alias', 'WHERE NOT builtin');

-- STABLE, not IMMUTABLE: the answer depends on cdp.city_alias, which users
-- may extend
CREATE FUNCTION @extschema@.city_key(name text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.name
      FROM (SELECT @extschema@.city_alias_form(name) AS k) f
     CROSS JOIN LATERAL (VALUES (1, f.k),
                                (2, pg_catalog.regexp_replace(f.k, '(市|地区|city|shi)$', ''))) v(ord, form)
      JOIN @extschema@.city_alias a ON a.alias OPERATOR(pg_catalog.=) v.form
      LEFT JOIN @extschema@.city c ON c.city_code OPERATOR(pg_catalog.=) a.city_code
     ORDER BY v.ord
     LIMIT 1;
END;
COMMENT ON FUNCTION @extschema@.city_key(text) IS 'Canonical city (official name, e.g. 广州市) for 广州 / 廣州市 / Guangzhou / guang zhou / GZ style input; NULL for unknown or ambiguous input, never a guess';

-- ==== src/bant.sql ====

-- bant.sql: the cdp.bant type (Budget, Authority, Need, Timeline,
-- Competition), its constructor, accessors, jsonb casts, the qualification
-- rule, and the lead column that holds it.  The fit score (bant_score) and
-- its weights live in scoring.sql.

CREATE TYPE @extschema@.bant;

CREATE FUNCTION @extschema@.bant_in(cstring) RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_in(cstring) IS 'Text input of cdp.bant; malformed literals raise 22P02 naming the part at fault';
CREATE FUNCTION @extschema@.bant_out(@extschema@.bant) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_bant_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_out(@extschema@.bant) IS 'Text output of cdp.bant: every part, in order; reads back to the same value';
CREATE FUNCTION @extschema@.bant_recv(internal) RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_recv(internal) IS 'Binary input of cdp.bant, validated as strictly as text input';
CREATE FUNCTION @extschema@.bant_send(@extschema@.bant) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_bant_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_send(@extschema@.bant) IS 'Binary output of cdp.bant';

CREATE TYPE @extschema@.bant (
    INPUT = @extschema@.bant_in,
    OUTPUT = @extschema@.bant_out,
    RECEIVE = @extschema@.bant_recv,
    SEND = @extschema@.bant_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = plain
);
COMMENT ON TYPE @extschema@.bant IS 'BANT qualification (Budget, Authority, Need, Timeline, Competition), e.g. (budget=allocated:50000, authority=decision_maker, need=identified, timeline=within_year:2027-03-31, competition=contested)';

-- Not STRICT: a NULL level is unknown, a NULL amount or date is absent.
CREATE FUNCTION @extschema@.bant(
    budget text DEFAULT 'unknown',
    authority text DEFAULT 'unknown',
    need text DEFAULT 'unknown',
    timeline text DEFAULT 'unknown',
    competition text DEFAULT 'unknown',
    budget_amount double precision DEFAULT NULL,
    decision_date date DEFAULT NULL)
RETURNS @extschema@.bant
    AS 'MODULE_PATHNAME', 'cdp_bant_make' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant(text, text, text, text, text, double precision, date) IS 'Builds a cdp.bant from level names (NULL or omitted = unknown), an optional budget amount and an optional expected decision date';

-- internal helper of the accessors: level name by dimension number
CREATE FUNCTION @extschema@.bant_level(@extschema@.bant, integer) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_bant_level' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_level(@extschema@.bant, integer) IS 'Level name of dimension 0..4 (budget, authority, need, timeline, competition); the named accessors are easier to read';

CREATE FUNCTION @extschema@.bant_budget(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 0);
COMMENT ON FUNCTION @extschema@.bant_budget(@extschema@.bant) IS 'Budget level: none, unknown, exploring, allocated, approved';
CREATE FUNCTION @extschema@.bant_authority(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 1);
COMMENT ON FUNCTION @extschema@.bant_authority(@extschema@.bant) IS 'Authority level: none, unknown, user, influencer, decision_maker';
CREATE FUNCTION @extschema@.bant_need(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 2);
COMMENT ON FUNCTION @extschema@.bant_need(@extschema@.bant) IS 'Need level: none, unknown, latent, identified, critical';
CREATE FUNCTION @extschema@.bant_timeline(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 3);
COMMENT ON FUNCTION @extschema@.bant_timeline(@extschema@.bant) IS 'Timeline level: none, unknown, long_term, within_year, within_quarter';
CREATE FUNCTION @extschema@.bant_competition(b @extschema@.bant) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN @extschema@.bant_level(b, 4);
COMMENT ON FUNCTION @extschema@.bant_competition(@extschema@.bant) IS 'Competition level: entrenched, unknown, contested, preferred, exclusive';

CREATE FUNCTION @extschema@.bant_rank(@extschema@.bant, dimension text) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_bant_rank' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_rank(@extschema@.bant, text) IS 'Position of a dimension''s level in its ordered set: 0 worst known answer, 1 unknown, 4 best';
CREATE FUNCTION @extschema@.bant_budget_amount(@extschema@.bant) RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_bant_budget_amount' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_budget_amount(@extschema@.bant) IS 'Budget amount, NULL when none was given';
CREATE FUNCTION @extschema@.bant_decision_date(@extschema@.bant) RETURNS date
    AS 'MODULE_PATHNAME', 'cdp_bant_decision_date' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_decision_date(@extschema@.bant) IS 'Expected decision date, NULL when none was given';

CREATE FUNCTION @extschema@.bant_qualified(@extschema@.bant) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_bant_qualified' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_qualified(@extschema@.bant) IS 'Qualified (合格) when need is identified or critical, at least two of budget >= allocated, authority >= influencer, timeline >= within_year hold, and none of budget, authority, need, timeline is "none"';

-- jsonb casts --------------------------------------------------------------

CREATE FUNCTION @extschema@.bant_to_jsonb(b @extschema@.bant) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'budget', @extschema@.bant_level(b, 0),
        'budget_amount', @extschema@.bant_budget_amount(b),
        'authority', @extschema@.bant_level(b, 1),
        'need', @extschema@.bant_level(b, 2),
        'timeline', @extschema@.bant_level(b, 3),
        'decision_date', @extschema@.bant_decision_date(b),
        'competition', @extschema@.bant_level(b, 4)));
COMMENT ON FUNCTION @extschema@.bant_to_jsonb(@extschema@.bant) IS 'cdp.bant as a jsonb object with keys budget, budget_amount, authority, need, timeline, decision_date, competition (absent amount and date left out)';

CREATE FUNCTION @extschema@.bant_from_jsonb(j jsonb) RETURNS @extschema@.bant
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    IF pg_catalog.jsonb_typeof(j) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'invalid input syntax for type cdp.bant: %', j
            USING ERRCODE = '22P02',
                  DETAIL = 'A cdp.bant in jsonb is an object.',
                  HINT = 'Keys: budget, budget_amount, authority, need, timeline, decision_date, competition.';
    END IF;
    SELECT k INTO bad FROM pg_catalog.jsonb_object_keys(j) AS k
     WHERE k OPERATOR(pg_catalog.<>) ALL (ARRAY['budget', 'budget_amount', 'authority', 'need',
                                              'timeline', 'decision_date', 'competition'])
     ORDER BY k LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid input syntax for type cdp.bant: %', j
            USING ERRCODE = '22P02',
                  DETAIL = pg_catalog.format('Unknown key "%s".', bad),
                  HINT = 'Keys: budget, budget_amount, authority, need, timeline, decision_date, competition.';
    END IF;
    RETURN @extschema@.bant(
        budget => j OPERATOR(pg_catalog.->>) 'budget',
        authority => j OPERATOR(pg_catalog.->>) 'authority',
        need => j OPERATOR(pg_catalog.->>) 'need',
        timeline => j OPERATOR(pg_catalog.->>) 'timeline',
        competition => j OPERATOR(pg_catalog.->>) 'competition',
        budget_amount => (j OPERATOR(pg_catalog.->>) 'budget_amount')::double precision,
        decision_date => (j OPERATOR(pg_catalog.->>) 'decision_date')::date);
END
$$;
COMMENT ON FUNCTION @extschema@.bant_from_jsonb(jsonb) IS 'cdp.bant from a jsonb object as bant_to_jsonb writes it; missing keys mean unknown, unknown keys raise 22P02';

CREATE CAST (@extschema@.bant AS jsonb) WITH FUNCTION @extschema@.bant_to_jsonb(@extschema@.bant);
CREATE CAST (jsonb AS @extschema@.bant) WITH FUNCTION @extschema@.bant_from_jsonb(jsonb);

-- the lead's qualification -------------------------------------------------

ALTER TABLE @extschema@.lead ADD COLUMN bant @extschema@.bant;
COMMENT ON COLUMN @extschema@.lead.bant IS 'BANT qualification (预算/决策权/需求/时间/竞争) as sales recorded it; NULL scores as all unknown';

-- ==== src/scoring.sql ====

-- scoring.sql: scoring models, the BANT fit score, engagement with decay,
-- score_leads() (score-driven lifecycle moves), and predicted win
-- probability (naive Bayes: cdp.nb_model, nb_train, nb_merge, nb_predict,
-- nb_explain, cdp.win_model).

-- Scoring models ---------------------------------------------------------------

CREATE TABLE @extschema@.scoring_model (
    model text PRIMARY KEY CHECK (model <> ''),
    description text,
    budget_weight real NOT NULL DEFAULT 30 CHECK (budget_weight >= 0),
    authority_weight real NOT NULL DEFAULT 25 CHECK (authority_weight >= 0),
    need_weight real NOT NULL DEFAULT 25 CHECK (need_weight >= 0),
    timeline_weight real NOT NULL DEFAULT 15 CHECK (timeline_weight >= 0),
    competition_weight real NOT NULL DEFAULT 5 CHECK (competition_weight >= 0),
    engagement_weights jsonb NOT NULL DEFAULT '{}' CHECK (pg_catalog.jsonb_typeof(engagement_weights) = 'object'),
    half_life interval NOT NULL DEFAULT '30 days' CHECK (half_life > '0'::interval),
    engagement_saturation double precision NOT NULL DEFAULT 100 CHECK (engagement_saturation > 0),
    fit_share real NOT NULL DEFAULT 0.6 CHECK (fit_share BETWEEN 0 AND 1),
    mql_threshold integer NOT NULL DEFAULT 40 CHECK (mql_threshold BETWEEN 0 AND 100),
    sql_threshold integer NOT NULL DEFAULT 70 CHECK (sql_threshold BETWEEN 0 AND 100),
    builtin boolean NOT NULL DEFAULT false,
    CHECK (budget_weight + authority_weight + need_weight + timeline_weight + competition_weight > 0),
    CHECK (mql_threshold <= sql_threshold)
);
COMMENT ON TABLE @extschema@.scoring_model IS 'Lead scoring models (线索评分模型): BANT weights, engagement points per touchpoint kind, decay half-life, and the MQL/SQL thresholds score_leads uses';
COMMENT ON COLUMN @extschema@.scoring_model.model IS 'Model name; "default" is built in';
COMMENT ON COLUMN @extschema@.scoring_model.description IS 'What the model is for';
COMMENT ON COLUMN @extschema@.scoring_model.budget_weight IS 'Weight of Budget in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.authority_weight IS 'Weight of Authority in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.need_weight IS 'Weight of Need in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.timeline_weight IS 'Weight of Timeline in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.competition_weight IS 'Weight of Competition in the fit score (non-negative)';
COMMENT ON COLUMN @extschema@.scoring_model.engagement_weights IS 'Engagement points per touchpoint kind, e.g. {"demo": 30}; a touchpoint''s own points column wins, unlisted kinds are worth 0';
COMMENT ON COLUMN @extschema@.scoring_model.half_life IS 'Engagement half-life: a touchpoint counts half after this long';
COMMENT ON COLUMN @extschema@.scoring_model.engagement_saturation IS 'Decayed engagement points that count as full (100) engagement in the combined score';
COMMENT ON COLUMN @extschema@.scoring_model.fit_share IS 'Share of the fit (BANT) score in the combined lead score; the rest is engagement';
COMMENT ON COLUMN @extschema@.scoring_model.mql_threshold IS 'Combined score at which score_leads moves a lead to mql';
COMMENT ON COLUMN @extschema@.scoring_model.sql_threshold IS 'Combined score at which score_leads moves a lead with an owner to sql';
COMMENT ON COLUMN @extschema@.scoring_model.builtin IS 'true for the "default" model shipped with cdp; pg_dump keeps only the others, so tune a copy rather than the built-in row';

INSERT INTO @extschema@.scoring_model (model, builtin, description, engagement_weights) VALUES
    ('default', true, 'Built-in model: BANT weights 30/25/25/15/5, 30-day half-life, MQL at 40, SQL at 70',
     '{"demo": 30, "meeting": 25, "event": 20, "form_submit": 15, "webinar": 15, "call": 10, "download": 10, "site_visit": 5, "email_click": 5, "email_open": 2}');

SELECT pg_catalog.pg_extension_config_dump('@extschema@.scoring_model', 'WHERE NOT builtin');

-- STABLE, not IMMUTABLE: reads the weights from cdp.scoring_model.
CREATE FUNCTION @extschema@.bant_score(b @extschema@.bant, model text DEFAULT 'default') RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_bant_score' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bant_score(@extschema@.bant, text) IS 'Fit score 0..100: the weighted mean over the five dimensions of level position / 4 (worst 0, unknown 0.25, best 1), rounded half up; improving a dimension never lowers it';

-- Engagement with decay ----------------------------------------------------

CREATE FUNCTION @extschema@.engagement_score_accum(double precision[], double precision, timestamptz, interval, timestamptz)
RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'cdp_engagement_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_accum(double precision[], double precision, timestamptz, interval, timestamptz) IS 'Transition function of engagement_score; the state is {events, sum, compensation, half-life seconds, as_of microseconds}';
CREATE FUNCTION @extschema@.engagement_score_combine(double precision[], double precision[])
RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'cdp_engagement_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_combine(double precision[], double precision[]) IS 'Combine function of engagement_score (parallel query, Citus)';
CREATE FUNCTION @extschema@.engagement_score_final(double precision[])
RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_engagement_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.engagement_score_final(double precision[]) IS 'Final function of engagement_score';

CREATE AGGREGATE @extschema@.engagement_score(points double precision, occurred_at timestamptz, half_life interval, as_of timestamptz) (
    SFUNC = @extschema@.engagement_score_accum,
    STYPE = double precision[],
    INITCOND = '{0,0,0,0,0}',
    FINALFUNC = @extschema@.engagement_score_final,
    COMBINEFUNC = @extschema@.engagement_score_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.engagement_score(double precision, timestamptz, interval, timestamptz) IS 'Sum of points * 2^(-(as_of - occurred_at) / half_life) over events at or before as_of (rows with a NULL argument skipped; 0 when none); half_life and as_of must be the same on every row of a group';

-- Score-driven lifecycle moves -----------------------------------------------

-- VOLATILE: updates leads and moves them through the lifecycle engine.
CREATE FUNCTION @extschema@.score_leads(model text DEFAULT 'default', only_changed boolean DEFAULT false)
RETURNS TABLE (scored bigint, moved_to_mql bigint, moved_to_sql bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.scoring_model;
    as_of timestamptz := pg_catalog.now();
    lead_model text;
    mql_pos integer;
    sql_pos integer;
    outer_reason text;
BEGIN
    SELECT * INTO m FROM @extschema@.scoring_model sm WHERE sm.model OPERATOR(pg_catalog.=) score_leads.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'scoring model "%" does not exist', score_leads.model
            USING ERRCODE = '22023',
                  HINT = 'The models are the rows of cdp.scoring_model; "default" is built in.';
    END IF;
    SELECT t.model INTO lead_model FROM @extschema@.tracked_table t
     WHERE t.tbl OPERATOR(pg_catalog.=) '@extschema@.lead'::pg_catalog.regclass;
    lead_model := coalesce(lead_model, 'b2b');
    SELECT s.position INTO mql_pos FROM @extschema@.lifecycle_stage s
     WHERE s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) 'mql';
    SELECT s.position INTO sql_pos FROM @extschema@.lifecycle_stage s
     WHERE s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) 'sql';
    IF mql_pos IS NULL OR sql_pos IS NULL THEN
        RAISE EXCEPTION 'lifecycle model "%" of cdp.lead has no mql and sql stages', lead_model
            USING ERRCODE = '22023';
    END IF;

    -- 1. scores of every open lead: not converted, not in an exit stage
    WITH open_lead AS (
        SELECT l.lead_id, l.bant
          FROM @extschema@.lead l
          LEFT JOIN @extschema@.lifecycle_stage s
            ON s.model OPERATOR(pg_catalog.=) lead_model AND s.stage OPERATOR(pg_catalog.=) l.stage
         WHERE l.converted_at IS NULL
           AND NOT coalesce(s.is_exit, false)
           AND (NOT only_changed OR l.scored_at IS NULL OR l.updated_at OPERATOR(pg_catalog.>) l.scored_at
                OR EXISTS (SELECT FROM @extschema@.touchpoint tp
                            WHERE tp.lead_id OPERATOR(pg_catalog.=) l.lead_id
                              AND tp.created_at OPERATOR(pg_catalog.>) l.scored_at))
    ), eng AS (
        SELECT tp.lead_id,
               @extschema@.engagement_score(
                   coalesce(tp.points, (m.engagement_weights OPERATOR(pg_catalog.->>) tp.kind)::double precision, 0),
                   tp.occurred_at, m.half_life, as_of) AS e
          FROM @extschema@.touchpoint tp
         WHERE tp.lead_id IN (SELECT o.lead_id FROM open_lead o)
         GROUP BY tp.lead_id
    ), s AS (
        SELECT o.lead_id,
               @extschema@.bant_score(coalesce(o.bant, @extschema@.bant()), m.model) AS fit,
               GREATEST(coalesce(eng.e, 0), 0) AS e
          FROM open_lead o LEFT JOIN eng ON eng.lead_id OPERATOR(pg_catalog.=) o.lead_id
    )
    UPDATE @extschema@.lead l
       SET fit_score = s.fit,
           engagement_score = s.e,
           score = pg_catalog.floor(m.fit_share * s.fit
                   + (1 - m.fit_share) * 100 * LEAST(s.e, m.engagement_saturation) / m.engagement_saturation
                   + 0.5)::integer,
           scored_at = as_of
      FROM s
     WHERE l.lead_id OPERATOR(pg_catalog.=) s.lead_id;
    GET DIAGNOSTICS scored = ROW_COUNT;

    -- 2. forward moves across the thresholds, with reason "score"; sql needs
    -- an owner, so a lead without one stops at mql
    outer_reason := pg_catalog.current_setting('cdp.stage_reason', true);
    PERFORM pg_catalog.set_config('cdp.stage_reason', 'score', true);
    WITH target AS (
        SELECT l.lead_id,
               CASE WHEN l.score OPERATOR(pg_catalog.>=) m.sql_threshold AND l.owner IS NOT NULL THEN 'sql'
                    WHEN l.score OPERATOR(pg_catalog.>=) m.mql_threshold THEN 'mql' END AS to_stage,
               CASE WHEN l.score OPERATOR(pg_catalog.>=) m.sql_threshold AND l.owner IS NOT NULL THEN sql_pos
                    WHEN l.score OPERATOR(pg_catalog.>=) m.mql_threshold THEN mql_pos END AS to_pos
          FROM @extschema@.lead l
          JOIN @extschema@.lifecycle_stage cur
            ON cur.model OPERATOR(pg_catalog.=) lead_model AND cur.stage OPERATOR(pg_catalog.=) l.stage
         WHERE l.scored_at OPERATOR(pg_catalog.=) as_of
           AND l.converted_at IS NULL
           AND NOT cur.is_exit
    ), moved AS (
        UPDATE @extschema@.lead l
           SET stage = t.to_stage
          FROM target t
          JOIN @extschema@.lifecycle_stage cur ON cur.model OPERATOR(pg_catalog.=) lead_model
         WHERE l.lead_id OPERATOR(pg_catalog.=) t.lead_id
           AND cur.stage OPERATOR(pg_catalog.=) l.stage
           AND t.to_pos OPERATOR(pg_catalog.>) cur.position
        RETURNING t.to_stage
    )
    SELECT pg_catalog.count(*) FILTER (WHERE to_stage OPERATOR(pg_catalog.=) 'mql'),
           pg_catalog.count(*) FILTER (WHERE to_stage OPERATOR(pg_catalog.=) 'sql')
      INTO moved_to_mql, moved_to_sql
      FROM moved;
    PERFORM pg_catalog.set_config('cdp.stage_reason', coalesce(outer_reason, ''), true);
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.score_leads(text, boolean) IS 'Recomputes fit, engagement and combined scores of open leads (not converted, not in an exit stage; all of them, or only_changed ones) and moves them forward to mql / sql (sql only with an owner) with reason "score"; never backwards';

-- Naive Bayes: the model type ------------------------------------------------

CREATE TYPE @extschema@.nb_model;

CREATE FUNCTION @extschema@.nb_model_in(cstring) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_in(cstring) IS 'Text input of cdp.nb_model (hexadecimal), checked as strictly as binary input';
CREATE FUNCTION @extschema@.nb_model_out(@extschema@.nb_model) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_nb_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_out(@extschema@.nb_model) IS 'Text output of cdp.nb_model: the portable binary form in hexadecimal';
CREATE FUNCTION @extschema@.nb_model_recv(internal) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_recv(internal) IS 'Binary input of cdp.nb_model; rejects malformed or inconsistent models';
CREATE FUNCTION @extschema@.nb_model_send(@extschema@.nb_model) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_nb_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_send(@extschema@.nb_model) IS 'Binary output of cdp.nb_model (network byte order)';

CREATE TYPE @extschema@.nb_model (
    INPUT = @extschema@.nb_model_in,
    OUTPUT = @extschema@.nb_model_out,
    RECEIVE = @extschema@.nb_model_recv,
    SEND = @extschema@.nb_model_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.nb_model IS 'Naive Bayes win model: won/lost counts per feature value (frequency tables), from cdp.nb_train; see cdp.nb_model_info for a readable summary';

CREATE FUNCTION @extschema@.nb_model_info(@extschema@.nb_model) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'cdp_nb_model_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_model_info(@extschema@.nb_model) IS 'Readable summary of a model: rows won and lost, and per feature its rows and number of distinct values';

-- Naive Bayes: aggregates ------------------------------------------------------

CREATE FUNCTION @extschema@.nb_train_trans(internal, text[], boolean) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_train_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_train_trans(internal, text[], boolean) IS 'Transition function of nb_train';
CREATE FUNCTION @extschema@.nb_merge_trans(internal, @extschema@.nb_model) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_merge_trans(internal, @extschema@.nb_model) IS 'Transition function of nb_merge';
CREATE FUNCTION @extschema@.nb_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_combine(internal, internal) IS 'Combine function of nb_train and nb_merge';
CREATE FUNCTION @extschema@.nb_serial(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_nb_serial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_serial(internal) IS 'Serial function of nb_train and nb_merge';
CREATE FUNCTION @extschema@.nb_deserial(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'cdp_nb_deserial' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_deserial(bytea, internal) IS 'Deserial function of nb_train and nb_merge; rejects malformed states';
CREATE FUNCTION @extschema@.nb_final(internal) RETURNS @extschema@.nb_model
    AS 'MODULE_PATHNAME', 'cdp_nb_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_final(internal) IS 'Final function of nb_train and nb_merge';

CREATE AGGREGATE @extschema@.nb_train(features text[], won boolean) (
    SFUNC = @extschema@.nb_train_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.nb_final,
    COMBINEFUNC = @extschema@.nb_combine,
    SERIALFUNC = @extschema@.nb_serial,
    DESERIALFUNC = @extschema@.nb_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.nb_train(text[], boolean) IS 'Trains a naive Bayes win model: elements "name=value" (or bare values named f<position>), numbers binned two bins per doubling; rows with a NULL label skipped; NULL when no row';

CREATE AGGREGATE @extschema@.nb_merge(@extschema@.nb_model) (
    SFUNC = @extschema@.nb_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.nb_final,
    COMBINEFUNC = @extschema@.nb_combine,
    SERIALFUNC = @extschema@.nb_serial,
    DESERIALFUNC = @extschema@.nb_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.nb_merge(@extschema@.nb_model) IS 'Combines models trained on parts of the data (per shard, per month) into the model of the whole';

CREATE FUNCTION @extschema@.nb_predict(@extschema@.nb_model, text[]) RETURNS double precision
    AS 'MODULE_PATHNAME', 'cdp_nb_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nb_predict(@extschema@.nb_model, text[]) IS 'Predicted probability of winning (0..1): logistic of the prior log-odds plus the smoothed per-feature log-likelihood ratios';

CREATE FUNCTION @extschema@.nb_explain(@extschema@.nb_model, text[])
RETURNS TABLE (feature text, contribution double precision)
    AS 'MODULE_PATHNAME', 'cdp_nb_explain' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION @extschema@.nb_explain(@extschema@.nb_model, text[]) IS 'Per-feature contributions to the log-odds, "(prior)" first; they add up to ln(p / (1 - p)) of nb_predict';

-- Win model from closed opportunities -------------------------------------------

-- STABLE: reads the account of the opportunity.
CREATE FUNCTION @extschema@.opportunity_features(o @extschema@.opportunity) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['source=' OPERATOR(pg_catalog.||) o.source,
                 'industry=' OPERATOR(pg_catalog.||) a.industry,
                 'segment=' OPERATOR(pg_catalog.||) a.segment,
                 'tier=' OPERATOR(pg_catalog.||) a.tier,
                 'province=' OPERATOR(pg_catalog.||) a.province,
                 'employees=' OPERATOR(pg_catalog.||) a.employees::text,
                 'amount=' OPERATOR(pg_catalog.||) o.amount::text,
                 'referred=' OPERATOR(pg_catalog.||) (o.referred_by IS NOT NULL)::text,
                 'competitor=' OPERATOR(pg_catalog.||) (o.competitor IS NOT NULL)::text,
                 'campaign=' OPERATOR(pg_catalog.||) (o.campaign_id IS NOT NULL)::text]
      FROM @extschema@.account a
     WHERE a.account_id OPERATOR(pg_catalog.=) o.account_id
$$;
COMMENT ON FUNCTION @extschema@.opportunity_features(@extschema@.opportunity) IS 'Feature vector of an opportunity for the win model: source, account industry, segment, tier, province, employees and amount (binned), referred, competitor known, campaign attributed';

CREATE TABLE @extschema@.win_model (
    model text PRIMARY KEY CHECK (model <> ''),
    nb @extschema@.nb_model NOT NULL,
    won bigint NOT NULL CHECK (won >= 0),
    lost bigint NOT NULL CHECK (lost >= 0),
    trained_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.win_model IS 'Predicted win probability models (赢单预测模型), retrained from closed opportunities by cdp.retrain_win_model';
COMMENT ON COLUMN @extschema@.win_model.model IS 'Model name; "default" unless you keep several';
COMMENT ON COLUMN @extschema@.win_model.nb IS 'The naive Bayes frequency tables';
COMMENT ON COLUMN @extschema@.win_model.won IS 'Won opportunities it was trained on';
COMMENT ON COLUMN @extschema@.win_model.lost IS 'Lost opportunities it was trained on';
COMMENT ON COLUMN @extschema@.win_model.trained_at IS 'When it was trained';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.win_model', '');

-- VOLATILE: writes cdp.win_model.
CREATE FUNCTION @extschema@.retrain_win_model(model text DEFAULT 'default') RETURNS @extschema@.win_model
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r @extschema@.win_model;
BEGIN
    SELECT retrain_win_model.model,
           @extschema@.nb_train(@extschema@.opportunity_features(o), o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost'),
           pg_catalog.now()
      INTO r
      FROM @extschema@.opportunity o
     WHERE o.stage OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']);
    IF r.nb IS NULL THEN
        RAISE EXCEPTION 'no closed opportunity to train on'
            USING ERRCODE = 'P0002',
                  HINT = 'The win model learns from opportunities in stage won or lost.';
    END IF;
    INSERT INTO @extschema@.win_model AS w (model, nb, won, lost, trained_at)
    VALUES (r.model, r.nb, r.won, r.lost, r.trained_at)
    ON CONFLICT ON CONSTRAINT win_model_pkey
    DO UPDATE SET nb = excluded.nb, won = excluded.won, lost = excluded.lost, trained_at = excluded.trained_at;
    RETURN r;
END
$$;
COMMENT ON FUNCTION @extschema@.retrain_win_model(text) IS 'Trains the win model from the opportunities in stage won or lost (features from cdp.opportunity_features) and stores it in cdp.win_model';

-- STABLE: reads the model and the opportunity.
CREATE FUNCTION @extschema@.win_probability(opportunity_id bigint, model text DEFAULT 'default') RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.nb_predict(w.nb, @extschema@.opportunity_features(o))
      FROM @extschema@.opportunity o, @extschema@.win_model w
     WHERE o.opportunity_id OPERATOR(pg_catalog.=) win_probability.opportunity_id
       AND w.model OPERATOR(pg_catalog.=) win_probability.model
$$;
COMMENT ON FUNCTION @extschema@.win_probability(bigint, text) IS 'Predicted probability that an opportunity is won, from cdp.win_model; NULL when the opportunity or the model does not exist';

-- ==== src/funnel.sql ====

-- funnel.sql: funnel aggregates (window_funnel, funnel_path, funnel_counts,
-- retention) and the cdp.stage_conversion view.
--
-- window_funnel and funnel_path keep their partial state in the varlena type
-- cdp.funnel_state, not in "internal": PostgreSQL's parallel workers pass it
-- as it is, and Citus ships it between nodes as text through its output and
-- input functions, which reject malformed states.  funnel_counts keeps a
-- bigint[] and retention a bigint for the same reason.  Every function is
-- IMMUTABLE (no time zone or clock is involved: the window is a fixed
-- duration) and PARALLEL SAFE.

CREATE TYPE @extschema@.funnel_state;

CREATE FUNCTION @extschema@.funnel_state_in(cstring) RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_in(cstring) IS 'Text input of cdp.funnel_state (hexadecimal wire format); rejects malformed states';

CREATE FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) IS 'Text output of cdp.funnel_state (hexadecimal wire format)';

CREATE FUNCTION @extschema@.funnel_state_recv(internal) RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_recv(internal) IS 'Binary input of cdp.funnel_state; checks everything the text input checks';

CREATE FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) IS 'Binary output of cdp.funnel_state';

CREATE TYPE @extschema@.funnel_state (
    INPUT = @extschema@.funnel_state_in,
    OUTPUT = @extschema@.funnel_state_out,
    RECEIVE = @extschema@.funnel_state_recv,
    SEND = @extschema@.funnel_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.funnel_state IS 'Partial state of cdp.window_funnel and cdp.funnel_path: the funnel parameters and one (timestamp, step mask) event per row';

-- not STRICT: the first row meets a NULL state, and NULL timestamps and
-- conditions have meanings of their own
CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[])
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[]) IS 'Transition function of cdp.window_funnel and cdp.funnel_path: adds one event to the state';

CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[])
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_mode_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[]) IS 'Transition function of cdp.window_funnel and cdp.funnel_path with modes: adds one event to the state';

CREATE FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state)
    RETURNS @extschema@.funnel_state
    AS 'MODULE_PATHNAME', 'cdp_funnel_state_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_combine(@extschema@.funnel_state, @extschema@.funnel_state) IS 'Combine function of cdp.window_funnel and cdp.funnel_path: the events of two partial states of the same funnel';

CREATE FUNCTION @extschema@.window_funnel_final(@extschema@.funnel_state) RETURNS integer
    AS 'MODULE_PATHNAME', 'cdp_window_funnel_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.window_funnel_final(@extschema@.funnel_state) IS 'Final function of cdp.window_funnel: the highest step reached (0 without rows)';

CREATE FUNCTION @extschema@.funnel_path_final(@extschema@.funnel_state) RETURNS timestamptz[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_path_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_path_final(@extschema@.funnel_state) IS 'Final function of cdp.funnel_path: the step times of the best chain';

-- The final functions leave the state alone (READ_ONLY, the default): the
-- two aggregates share one state when called with the same arguments, and
-- they work as window functions.
CREATE AGGREGATE @extschema@.window_funnel("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, VARIADIC boolean[]) IS 'Funnel (漏斗) level of one entity: the longest prefix of steps completed by a chain within the window of its step-1 event';

CREATE AGGREGATE @extschema@.window_funnel("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.window_funnel_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, VARIADIC boolean[]) IS 'Funnel (漏斗) level of one entity with modes strict_order, strict_deduplication, strict_increase (comma-separated)';

CREATE AGGREGATE @extschema@.funnel_path("window" interval, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.funnel_path_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_path(interval, timestamptz, VARIADIC boolean[]) IS 'Times at which the best funnel chain reached each step (NULL beyond the level reached), for time to convert';

CREATE AGGREGATE @extschema@.funnel_path("window" interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
    SFUNC = @extschema@.window_funnel_transfn,
    STYPE = @extschema@.funnel_state,
    SSPACE = 400,
    FINALFUNC = @extschema@.funnel_path_final,
    COMBINEFUNC = @extschema@.funnel_state_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_path(interval, text, timestamptz, VARIADIC boolean[]) IS 'Times at which the best funnel chain reached each step, with modes as in cdp.window_funnel';

-- Fixed-arity forms for 1 to 8 steps.  For a call such as
-- window_funnel('7 days', ts, a, b, c, d) PostgreSQL prefers an exact
-- non-VARIADIC match, and these transition functions read the conditions
-- as arguments instead of an array built for every row; same states, same
-- results.  Longer funnels, and calls with VARIADIC ARRAY[...], use the
-- forms above.
DO $$
DECLARE
    n integer;
    steps text;
    named text;
    modes text;
BEGIN
    FOR n IN 1 .. 8 LOOP
        SELECT pg_catalog.string_agg('boolean', ', '), pg_catalog.string_agg('step' || i || ' boolean', ', ')
          INTO steps, named
          FROM pg_catalog.generate_series(1, n) AS i;
        FOREACH modes IN ARRAY ARRAY['', 'text, '] LOOP
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, %stimestamptz, %s)
                     RETURNS @extschema@.funnel_state
                     AS %L, %L
                     LANGUAGE C IMMUTABLE PARALLEL SAFE',
                modes, steps, 'MODULE_PATHNAME',
                CASE modes WHEN '' THEN 'cdp_window_funnel_args_transfn' ELSE 'cdp_window_funnel_mode_args_transfn' END);
            EXECUTE pg_catalog.format(
                'COMMENT ON FUNCTION @extschema@.window_funnel_transfn(@extschema@.funnel_state, interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Transition function of cdp.window_funnel and cdp.funnel_path%s with %s step arguments: adds one event to the state',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
            EXECUTE pg_catalog.format(
                'CREATE AGGREGATE @extschema@.window_funnel("window" interval, %sts timestamptz, %s) (
                     SFUNC = @extschema@.window_funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 400,
                     FINALFUNC = @extschema@.window_funnel_final, COMBINEFUNC = @extschema@.funnel_state_combine,
                     PARALLEL = SAFE)',
                CASE modes WHEN '' THEN '' ELSE 'mode text, ' END, named);
            EXECUTE pg_catalog.format(
                'COMMENT ON AGGREGATE @extschema@.window_funnel(interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Funnel (漏斗) level of one entity%s, %s steps given as separate conditions (the same as the VARIADIC form)',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
            EXECUTE pg_catalog.format(
                'CREATE AGGREGATE @extschema@.funnel_path("window" interval, %sts timestamptz, %s) (
                     SFUNC = @extschema@.window_funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 400,
                     FINALFUNC = @extschema@.funnel_path_final, COMBINEFUNC = @extschema@.funnel_state_combine,
                     PARALLEL = SAFE)',
                CASE modes WHEN '' THEN '' ELSE 'mode text, ' END, named);
            EXECUTE pg_catalog.format(
                'COMMENT ON AGGREGATE @extschema@.funnel_path(interval, %stimestamptz, %s) IS %L',
                modes, steps,
                pg_catalog.format('Times at which the best funnel chain reached each step%s, %s steps given as separate conditions (the same as the VARIADIC form)',
                                  CASE modes WHEN '' THEN '' ELSE ' with modes' END, n));
        END LOOP;
    END LOOP;
END
$$;

CREATE FUNCTION @extschema@.funnel_counts_transfn(bigint[], integer, integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_counts_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_counts_transfn(bigint[], integer, integer) IS 'Transition function of cdp.funnel_counts: counts one entity at every step up to its level';

CREATE FUNCTION @extschema@.funnel_counts_combine(bigint[], bigint[]) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'cdp_funnel_counts_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_counts_combine(bigint[], bigint[]) IS 'Combine function of cdp.funnel_counts: adds the counters of two partial states';

CREATE AGGREGATE @extschema@.funnel_counts(level integer, steps integer) (
    SFUNC = @extschema@.funnel_counts_transfn,
    STYPE = bigint[],
    COMBINEFUNC = @extschema@.funnel_counts_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_counts(integer, integer) IS 'Funnel counts (漏斗转化人数): element k is how many entities reached at least step k; level is a window_funnel result';

CREATE FUNCTION @extschema@.retention_transfn(bigint, boolean[]) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_retention_transfn'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_transfn(bigint, boolean[]) IS 'Transition function of cdp.retention: records which conditions held';

CREATE FUNCTION @extschema@.retention_combine(bigint, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'cdp_retention_combine'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(bigint, bigint) IS 'Combine function of cdp.retention';

CREATE FUNCTION @extschema@.retention_final(bigint) RETURNS boolean[]
    AS 'MODULE_PATHNAME', 'cdp_retention_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(bigint) IS 'Final function of cdp.retention';

CREATE AGGREGATE @extschema@.retention(VARIADIC conditions boolean[]) (
    SFUNC = @extschema@.retention_transfn,
    STYPE = bigint,
    FINALFUNC = @extschema@.retention_final,
    COMBINEFUNC = @extschema@.retention_combine,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(VARIADIC boolean[]) IS 'Retention (留存): element 1 is whether condition 1 held in some row, element k whether conditions 1 and k both did';

-- Stage conversion: for each open stage of each model and the open stage
-- after it, how many entities entered the stage and how many of them went on
-- to a later open stage of the same model (the next one, or past it by a
-- skip), counting each entity's first entry into the stage.
CREATE VIEW @extschema@.stage_conversion AS
WITH stages AS (
    SELECT s.model, s.stage, s.position,
           pg_catalog.lead(s.stage) OVER (PARTITION BY s.model ORDER BY s.position) AS next_stage
      FROM @extschema@.lifecycle_stage s
     WHERE NOT s.is_exit
), firsts AS (
    SELECT h.entity, h.entity_key, h.model, h.stage, pg_catalog.min(h.entered_at) AS first_entered_at
      FROM @extschema@.stage_history h
     GROUP BY h.entity, h.entity_key, h.model, h.stage
)
SELECT st.model,
       st.stage,
       st.next_stage,
       pg_catalog.count(f.entity_key) AS entered,
       pg_catalog.count(c.converted_at) AS converted,
       pg_catalog.round(pg_catalog.count(c.converted_at)::numeric
                        OPERATOR(pg_catalog./) NULLIF(pg_catalog.count(f.entity_key), 0)::numeric, 4) AS conversion_rate,
       pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY c.converted_at OPERATOR(pg_catalog.-) f.first_entered_at) AS median_time_to_convert
  FROM stages st
  LEFT JOIN firsts f
         ON f.model OPERATOR(pg_catalog.=) st.model AND f.stage OPERATOR(pg_catalog.=) st.stage
  LEFT JOIN LATERAL (
        SELECT pg_catalog.min(h.entered_at) AS converted_at
          FROM @extschema@.stage_history h
          JOIN @extschema@.lifecycle_stage l
            ON l.model OPERATOR(pg_catalog.=) h.model AND l.stage OPERATOR(pg_catalog.=) h.stage
         WHERE h.entity OPERATOR(pg_catalog.=) f.entity
           AND h.entity_key OPERATOR(pg_catalog.=) f.entity_key
           AND h.model OPERATOR(pg_catalog.=) f.model
           AND NOT l.is_exit
           AND l.position OPERATOR(pg_catalog.>) st.position
           AND h.entered_at OPERATOR(pg_catalog.>) f.first_entered_at) c ON true
 WHERE st.next_stage IS NOT NULL
 GROUP BY st.model, st.stage, st.position, st.next_stage;
COMMENT ON VIEW @extschema@.stage_conversion IS 'Stage conversion (阶段转化率) per model and open stage: entities that entered the stage and how many went on to a later open stage, with the median time it took';
COMMENT ON COLUMN @extschema@.stage_conversion.model IS 'Lifecycle model';
COMMENT ON COLUMN @extschema@.stage_conversion.stage IS 'Stage entered (open stages only)';
COMMENT ON COLUMN @extschema@.stage_conversion.next_stage IS 'The open stage that follows it in the model';
COMMENT ON COLUMN @extschema@.stage_conversion.entered IS 'Entities that entered the stage at least once (进入数)';
COMMENT ON COLUMN @extschema@.stage_conversion.converted IS 'Of those, entities that later entered next_stage or any open stage after it (转化数)';
COMMENT ON COLUMN @extschema@.stage_conversion.conversion_rate IS 'converted / entered, rounded to 4 decimals; NULL when no entity entered (转化率)';
COMMENT ON COLUMN @extschema@.stage_conversion.median_time_to_convert IS 'Median time from the first entry into the stage to the first entry into a later open stage, over converted entities (转化时长中位数)';

-- ==== src/graph.sql ====

-- graph: relationships between contacts (人脉与决策链).
--   decision chain coverage per opportunity, and a lifecycle guard that
--   needs an identified decision maker;
--   intro_paths: shortest, then strongest, introduction paths (C);
--   influence_scores: the KOL score of each contact, one pass in C;
--   referrals: funnel of referred versus new business, revenue per referrer,
--   advocates.

-- Decision chain ----------------------------------------------------------------

-- The roles of a complete buying centre: the one who decides, approves and
-- pays, buys, checks the technology, needs and runs the product.
-- Influencer, champion and gatekeeper are useful but not required.
CREATE FUNCTION @extschema@.decision_roles_required()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '{decision_maker,approver,finance,procurement,it,user,executor}'::pg_catalog.text[];
COMMENT ON FUNCTION @extschema@.decision_roles_required() IS
    'Decision roles a complete buying centre (决策链) covers by default: decision_maker, approver, finance, procurement, it, user, executor';

-- STABLE: reads @extschema@.opportunity and @extschema@.contact.
CREATE FUNCTION @extschema@.decision_chain_coverage(
    opportunity_id bigint,
    required_roles text[] DEFAULT @extschema@.decision_roles_required())
RETURNS TABLE (decision_role text, required boolean, covered boolean,
               contact_ids bigint[], max_approval_limit numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    known text[] := '{decision_maker,approver,finance,procurement,it,user,executor,influencer,champion,gatekeeper}';
    acct bigint;
    bad text;
BEGIN
    IF decision_chain_coverage.opportunity_id IS NULL THEN
        RAISE EXCEPTION 'opportunity_id must not be null' USING ERRCODE = '22004';
    END IF;
    IF required_roles IS NULL THEN
        RAISE EXCEPTION 'required_roles must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT r INTO bad FROM unnest(required_roles) r
     WHERE r IS NULL OR NOT r OPERATOR(pg_catalog.=) ANY (known) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown decision role "%"', bad USING ERRCODE = '22023',
            HINT = 'Decision roles: ' || array_to_string(known, ', ') || '.';
    END IF;
    SELECT o.account_id INTO acct FROM @extschema@.opportunity o
     WHERE o.opportunity_id OPERATOR(pg_catalog.=) decision_chain_coverage.opportunity_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'opportunity % does not exist', decision_chain_coverage.opportunity_id
            USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY
    SELECT k.role,
           k.role OPERATOR(pg_catalog.=) ANY (required_roles),
           count(c.contact_id) OPERATOR(pg_catalog.>) 0,
           coalesce(array_agg(c.contact_id ORDER BY c.contact_id)
                    FILTER (WHERE c.contact_id IS NOT NULL), '{}'),
           max(c.approval_limit)
      FROM unnest(known) WITH ORDINALITY AS k(role, ord)
      LEFT JOIN @extschema@.contact c
        ON c.account_id OPERATOR(pg_catalog.=) acct
       AND c.decision_role OPERATOR(pg_catalog.=) k.role
     GROUP BY k.role, k.ord
     ORDER BY k.ord;
END
$$;
COMMENT ON FUNCTION @extschema@.decision_chain_coverage(bigint, text[]) IS
    'Decision chain (决策链) of an opportunity: per decision role, whether known contacts at its account cover it, which ones, and their largest approval limit';

CREATE VIEW @extschema@.opportunity_decision_chain WITH (security_invoker = true) AS
SELECT o.opportunity_id,
       o.account_id,
       o.stage,
       o.amount,
       pg_catalog.cardinality(@extschema@.decision_roles_required()) AS required_roles,
       cov.covered_roles,
       (cov.covered_roles::real OPERATOR(pg_catalog./)
            pg_catalog.cardinality(@extschema@.decision_roles_required()))::real AS coverage,
       cov.missing_roles,
       cov.known_contacts,
       cov.has_decision_maker,
       (o.amount IS NOT NULL AND cov.max_approval_limit OPERATOR(pg_catalog.>=) o.amount) AS amount_within_approval_limit
  FROM @extschema@.opportunity o
  CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE r.contacts OPERATOR(pg_catalog.>) 0)::integer AS covered_roles,
             coalesce(string_agg(r.role, ', ' ORDER BY r.ord)
                      FILTER (WHERE r.contacts OPERATOR(pg_catalog.=) 0), '') AS missing_roles,
             (SELECT count(*)::integer FROM @extschema@.contact c
               WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id) AS known_contacts,
             EXISTS (SELECT 1 FROM @extschema@.contact c
                      WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id
                        AND c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS has_decision_maker,
             (SELECT max(c.approval_limit) FROM @extschema@.contact c
               WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id) AS max_approval_limit
        FROM (SELECT k.role, k.ord,
                     (SELECT count(*) FROM @extschema@.contact c
                       WHERE c.account_id OPERATOR(pg_catalog.=) o.account_id
                         AND c.decision_role OPERATOR(pg_catalog.=) k.role) AS contacts
                FROM unnest(@extschema@.decision_roles_required()) WITH ORDINALITY AS k(role, ord)) r
  ) cov;
COMMENT ON VIEW @extschema@.opportunity_decision_chain IS
    'Decision chain coverage (决策链覆盖) per opportunity, over the roles of @extschema@.decision_roles_required(); for the 4R Relationship metrics';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.opportunity_id IS 'Opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.account_id IS 'Account of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.stage IS 'Current stage of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.amount IS 'Amount of the opportunity';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.required_roles IS 'Number of decision roles a complete chain covers';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.covered_roles IS 'Required roles covered by at least one known contact at the account';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.coverage IS 'covered_roles / required_roles, 0 to 1 (决策链覆盖率)';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.missing_roles IS 'Required roles no known contact covers, comma separated, in chain order';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.known_contacts IS 'Contacts known at the account';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.has_decision_maker IS 'Whether a contact with role decision_maker (拍板人) is known';
COMMENT ON COLUMN @extschema@.opportunity_decision_chain.amount_within_approval_limit IS 'Whether a known contact can approve the amount alone (approval_limit >= amount)';

-- STABLE: reads cdp.contact.  Walks the reporting line (cdp.contact.reports_to)
-- upwards from a contact; a loop in the data ends the walk instead of
-- running forever.
CREATE FUNCTION @extschema@.approval_chain(start_contact bigint, amount numeric DEFAULT NULL)
RETURNS TABLE (level integer, contact_id bigint, name text, decision_role text,
               approval_limit numeric, can_approve boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF approval_chain.start_contact IS NULL THEN
        RAISE EXCEPTION 'start_contact must not be null' USING ERRCODE = '22004';
    END IF;
    IF amount < 0 THEN
        RAISE EXCEPTION 'amount must not be negative' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.contact c
                    WHERE c.contact_id OPERATOR(pg_catalog.=) approval_chain.start_contact) THEN
        RAISE EXCEPTION 'contact % does not exist', approval_chain.start_contact USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY
    WITH RECURSIVE up(lvl, id, seen) AS (
        SELECT 0, approval_chain.start_contact, ARRAY[approval_chain.start_contact]
      UNION ALL
        SELECT u.lvl OPERATOR(pg_catalog.+) 1, c.reports_to, u.seen OPERATOR(pg_catalog.||) c.reports_to
          FROM up u
          JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) u.id
         WHERE c.reports_to IS NOT NULL
           AND NOT c.reports_to OPERATOR(pg_catalog.=) ANY (u.seen)
           AND NOT coalesce(c.approval_limit OPERATOR(pg_catalog.>=) amount, false)
    )
    SELECT u.lvl, c.contact_id, c.name, c.decision_role, c.approval_limit,
           coalesce(c.approval_limit OPERATOR(pg_catalog.>=) amount, false)
      FROM up u
      JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) u.id
     ORDER BY u.lvl;
END
$$;
COMMENT ON FUNCTION @extschema@.approval_chain(bigint, numeric) IS
    'Reporting line (汇报线) of a contact upwards through cdp.contact.reports_to, up to the first person whose approval_limit covers amount (审批权限); the whole line when amount is NULL';

-- Lifecycle guard: a late stage needs an identified decision maker.  It
-- reads the account's contacts as the extension owner (SECURITY DEFINER):
-- the rule is about the account, not about which contacts the moving user
-- may see, and it answers only true or false.
CREATE FUNCTION @extschema@.require_decision_maker(entity regclass, entity_key text, to_stage text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    acct bigint;
    amt numeric;
    id bigint;
BEGIN
    IF entity IS NULL OR entity_key IS NULL THEN
        RAISE EXCEPTION 'entity and entity_key must not be null' USING ERRCODE = '22004';
    END IF;
    BEGIN
        id := entity_key::bigint;
    EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
        RAISE EXCEPTION 'invalid key "%" for %', entity_key, entity USING ERRCODE = '22P02';
    END;
    IF entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass THEN
        SELECT o.account_id, o.amount INTO acct, amt FROM @extschema@.opportunity o
         WHERE o.opportunity_id OPERATOR(pg_catalog.=) id;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass THEN
        SELECT a.account_id, NULL INTO acct, amt FROM @extschema@.account a
         WHERE a.account_id OPERATOR(pg_catalog.=) id;
    ELSE
        RAISE EXCEPTION 'require_decision_maker does not know table %', entity
            USING ERRCODE = '42809',
                  HINT = 'Attach it to stages of the models of @extschema@.opportunity or @extschema@.account.';
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no row with key "%" in %', entity_key, entity USING ERRCODE = 'P0002';
    END IF;
    RETURN EXISTS (SELECT 1 FROM @extschema@.contact c
                    WHERE c.account_id OPERATOR(pg_catalog.=) acct
                      AND (c.decision_role OPERATOR(pg_catalog.=) 'decision_maker'
                           OR (amt IS NOT NULL AND c.approval_limit OPERATOR(pg_catalog.>=) amt)));
END
$$;
COMMENT ON FUNCTION @extschema@.require_decision_maker(regclass, text, text) IS
    'Lifecycle stage guard: true when the account of the opportunity (or the account) has an identified decision maker (拍板人): a contact with role decision_maker, or one whose approval_limit covers the opportunity amount';

-- Introduction paths -------------------------------------------------------------

-- intro_paths reads the edges of a set of contacts in both directions; with
-- this index and relationship_to_idx, both covering, those reads are
-- index-only scans (one leaf page per contact instead of one heap page per
-- edge), about 2.5 times faster on a large graph.
CREATE INDEX relationship_from_walk_idx ON @extschema@.relationship (from_contact) INCLUDE (to_contact, strength);

-- STABLE: reads the graph; not STRICT so NULL arguments get a clear error.
-- Its queries fetch the edges of a set of contacts: an index scan is always
-- the right plan, but on a freshly loaded table without statistics the
-- planner would pick a sequential scan of every edge, so seq scans are off
-- inside the function.
CREATE FUNCTION @extschema@.intro_paths(from_contact bigint, to_contact bigint, max_hops integer DEFAULT 6)
RETURNS TABLE (path bigint[], hops integer, strength real)
AS 'MODULE_PATHNAME', 'cdp_intro_paths'
LANGUAGE C STABLE PARALLEL SAFE
SET enable_seqscan = off;
COMMENT ON FUNCTION @extschema@.intro_paths(bigint, bigint, integer) IS
    'Shortest introduction paths (引荐路径) between two contacts within max_hops, strongest (product of edge strengths) first; edges are walked both ways, contacts that refused intro consent are not used as intermediaries, row-level security applies';

-- Influence ---------------------------------------------------------------------

-- STABLE: reads @extschema@.relationship and @extschema@.opportunity.
CREATE FUNCTION @extschema@.influence_scores(
    w_followers double precision DEFAULT 1.0,
    w_reports double precision DEFAULT 1.0,
    w_referrals double precision DEFAULT 2.0,
    w_ties double precision DEFAULT 0.5,
    w_second double precision DEFAULT 0.25,
    half_score double precision DEFAULT 5.0)
RETURNS TABLE (contact_id bigint, score real, followers real, direct_reports bigint,
               referrals bigint, ties real, second_degree real)
AS 'MODULE_PATHNAME', 'cdp_influence_scores'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.influence_scores(double precision, double precision, double precision, double precision, double precision, double precision) IS
    'Influence (KOL, 意见领袖) score 0..100 per contact, from one pass over the graph: 100 * raw / (raw + half_score), raw = w_followers*followers + w_reports*direct_reports + w_referrals*referrals + w_ties*ties + w_second*second_degree';

-- Referrals ---------------------------------------------------------------------

CREATE VIEW @extschema@.referral_funnel WITH (security_invoker = true) AS
WITH furthest AS (
    SELECT o.opportunity_id,
           CASE WHEN o.referred_by IS NULL THEN 'new_business' ELSE 'referral' END AS business,
           greatest(
               (SELECT s.position FROM @extschema@.lifecycle_stage s
                 WHERE s.model OPERATOR(pg_catalog.=) 'opportunity'
                   AND s.stage OPERATOR(pg_catalog.=) o.stage AND NOT s.is_exit),
               (SELECT max(s.position)
                  FROM @extschema@.stage_history h
                  JOIN @extschema@.lifecycle_stage s
                    ON s.model OPERATOR(pg_catalog.=) h.model
                   AND s.stage OPERATOR(pg_catalog.=) h.stage AND NOT s.is_exit
                 WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass
                   AND h.entity_key OPERATOR(pg_catalog.=) o.opportunity_id::text
                   AND h.model OPERATOR(pg_catalog.=) 'opportunity')) AS position
      FROM @extschema@.opportunity o
)
SELECT b.business,
       s.stage,
       s.position,
       count(f.opportunity_id) AS reached,
       (count(f.opportunity_id)::double precision OPERATOR(pg_catalog./)
            nullif(lag(count(f.opportunity_id)) OVER (PARTITION BY b.business ORDER BY s.position), 0))::real
           AS conversion_rate
  FROM (VALUES ('referral'), ('new_business')) AS b(business)
  CROSS JOIN @extschema@.lifecycle_stage s
  LEFT JOIN furthest f
    ON f.business OPERATOR(pg_catalog.=) b.business
   AND f.position OPERATOR(pg_catalog.>=) s.position
 WHERE s.model OPERATOR(pg_catalog.=) 'opportunity' AND NOT s.is_exit
 GROUP BY b.business, s.stage, s.position;
COMMENT ON VIEW @extschema@.referral_funnel IS
    'Opportunity funnel of referred business (转介绍) apart from new business: how many opportunities reached each stage (now or in their stage history)';
COMMENT ON COLUMN @extschema@.referral_funnel.business IS 'referral (referred_by set) or new_business';
COMMENT ON COLUMN @extschema@.referral_funnel.stage IS 'Stage of the opportunity model';
COMMENT ON COLUMN @extschema@.referral_funnel.position IS 'Position of the stage in the model';
COMMENT ON COLUMN @extschema@.referral_funnel.reached IS 'Opportunities that reached this stage or a later one';
COMMENT ON COLUMN @extschema@.referral_funnel.conversion_rate IS 'reached / reached at the previous stage; NULL for the first stage';

CREATE VIEW @extschema@.referrer_revenue WITH (security_invoker = true) AS
SELECT c.contact_id AS referrer_id,
       c.name AS referrer_name,
       c.account_id AS referrer_account_id,
       count(*) AS referred_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL ('{won,lost}')) AS open_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won') AS won_opportunities,
       count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost') AS lost_opportunities,
       coalesce(sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL ('{won,lost}')), 0) AS pipeline_amount,
       coalesce(sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0) AS won_amount,
       coalesce(sum((SELECT sum(r.amount) FROM @extschema@."order" r
                      WHERE r.opportunity_id OPERATOR(pg_catalog.=) o.opportunity_id)), 0) AS order_revenue,
       min(o.created_at) AS first_referral_at,
       max(o.created_at) AS last_referral_at
  FROM @extschema@.opportunity o
  JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) o.referred_by
 GROUP BY c.contact_id, c.name, c.account_id;
COMMENT ON VIEW @extschema@.referrer_revenue IS
    'Business traced to each referrer (转介绍人): referred opportunities by outcome, pipeline, won amount and order revenue';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_id IS 'Contact who referred the business';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_name IS 'Name of the referrer';
COMMENT ON COLUMN @extschema@.referrer_revenue.referrer_account_id IS 'Account the referrer works at';
COMMENT ON COLUMN @extschema@.referrer_revenue.referred_opportunities IS 'Opportunities whose referred_by is this contact';
COMMENT ON COLUMN @extschema@.referrer_revenue.open_opportunities IS 'Referred opportunities neither won nor lost';
COMMENT ON COLUMN @extschema@.referrer_revenue.won_opportunities IS 'Referred opportunities won';
COMMENT ON COLUMN @extschema@.referrer_revenue.lost_opportunities IS 'Referred opportunities lost';
COMMENT ON COLUMN @extschema@.referrer_revenue.pipeline_amount IS 'Amount of the open referred opportunities';
COMMENT ON COLUMN @extschema@.referrer_revenue.won_amount IS 'Amount of the won referred opportunities (转介绍收入)';
COMMENT ON COLUMN @extschema@.referrer_revenue.order_revenue IS 'Amount of the orders placed against the referred opportunities';
COMMENT ON COLUMN @extschema@.referrer_revenue.first_referral_at IS 'When the first referred opportunity was created';
COMMENT ON COLUMN @extschema@.referrer_revenue.last_referral_at IS 'When the latest referred opportunity was created';

CREATE VIEW @extschema@.advocates WITH (security_invoker = true) AS
SELECT r.referrer_id AS contact_id,
       r.referrer_name AS name,
       r.referrer_account_id AS account_id,
       a.stage AS account_stage,
       r.referred_opportunities,
       r.won_opportunities,
       r.won_amount,
       r.order_revenue,
       r.last_referral_at
  FROM @extschema@.referrer_revenue r
  LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) r.referrer_account_id
 WHERE r.won_opportunities OPERATOR(pg_catalog.>) 0;
COMMENT ON VIEW @extschema@.advocates IS
    'Advocates (推荐者): contacts at least one of whose referrals was won; their accounts are candidates for the advocate stage of the b2b model';
COMMENT ON COLUMN @extschema@.advocates.contact_id IS 'The advocate';
COMMENT ON COLUMN @extschema@.advocates.name IS 'Name of the advocate';
COMMENT ON COLUMN @extschema@.advocates.account_id IS 'Account the advocate works at';
COMMENT ON COLUMN @extschema@.advocates.account_stage IS 'Lifecycle stage of that account';
COMMENT ON COLUMN @extschema@.advocates.referred_opportunities IS 'Opportunities the advocate referred';
COMMENT ON COLUMN @extschema@.advocates.won_opportunities IS 'Referred opportunities won';
COMMENT ON COLUMN @extschema@.advocates.won_amount IS 'Amount won through the advocate';
COMMENT ON COLUMN @extschema@.advocates.order_revenue IS 'Order revenue of the referred opportunities';
COMMENT ON COLUMN @extschema@.advocates.last_referral_at IS 'When the latest referral was created';

-- ==== src/views.sql ====

-- views.sql: the BI layer.  CDP sheets, 4R metrics, pools and segments as
-- plain views that Metabase (or any BI tool over JDBC) reads.
--
-- Rules every view here follows:
--   - only scalar columns (no arrays, composites or json), snake_case names,
--     money in CNY as numeric, counts as bigint, shares as numeric in [0, 1];
--   - COMMENT ON the view and every column, English with the Chinese term;
--   - set-based: each table is aggregated once and joined on its key, never a
--     correlated subquery per row, so that the planner can hash, merge or
--     parallelise (the regression test checks that no plan has a SubPlan);
--   - a single account (WHERE account_id = ...) is reached through the keys,
--     which is how the sheet_complete guard reads sheet_completeness;
--   - a month column is the first day of the month (date) in the session's
--     time zone; a segment column comes from cdp.segment_of, 'unclassified'
--     when the account's size is unknown and no segment was declared.

-- Segments ----------------------------------------------------------------------

-- IMMUTABLE: it always raises for the same input; called only on bad input.
CREATE FUNCTION @extschema@.segment_of_error(what text, val text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'invalid % for cdp.segment_of: "%"', what, val
        USING ERRCODE = '22023',
              HINT = CASE what WHEN 'declared segment' THEN 'A declared segment is one of big_b, small_b, big_c, small_c, or NULL.'
                               ELSE 'Employees and annual revenue are zero or more, or NULL when unknown.' END;
END
$$;
COMMENT ON FUNCTION @extschema@.segment_of_error(text, text) IS 'Raises the 22023 error of cdp.segment_of for a bad argument (internal helper, so that segment_of stays an inlinable SQL expression)';

-- IMMUTABLE and written BEGIN ATOMIC so the planner inlines it into the views:
-- a plain CASE expression per row, no function call.
CREATE FUNCTION @extschema@.segment_of(declared text, employees integer, annual_revenue numeric)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN declared IS NOT NULL THEN
            CASE WHEN declared OPERATOR(pg_catalog.=) ANY (ARRAY['big_b', 'small_b', 'big_c', 'small_c']::text[])
                 THEN declared
                 ELSE @extschema@.segment_of_error('declared segment', declared) END
        WHEN employees OPERATOR(pg_catalog.<) 0 THEN @extschema@.segment_of_error('employees', employees::text)
        WHEN annual_revenue OPERATOR(pg_catalog.<) 0 THEN @extschema@.segment_of_error('annual revenue', annual_revenue::text)
        -- no staff: a person, household or sole trader buying for itself (C)
        WHEN employees OPERATOR(pg_catalog.=) 0 THEN
            CASE WHEN annual_revenue OPERATOR(pg_catalog.>=) 1000000 THEN 'big_c' ELSE 'small_c' END
        -- an organisation (B)
        WHEN employees OPERATOR(pg_catalog.>=) 300 OR annual_revenue OPERATOR(pg_catalog.>=) 100000000 THEN 'big_b'
        WHEN employees IS NOT NULL OR annual_revenue IS NOT NULL THEN 'small_b'
    END;
END;
COMMENT ON FUNCTION @extschema@.segment_of(text, integer, numeric) IS 'Business segment (客户分层) of an account: the declared segment when set (big_b, small_b, big_c, small_c); otherwise employees = 0 (a person or household) gives big_c when annual revenue/spend >= 1,000,000 CNY else small_c, and an organisation gives big_b (大B) with >= 300 employees or >= 100,000,000 CNY revenue, else small_b (小B); NULL when nothing is known. Bad input raises 22023';

-- Which fields the CDP sheets must have, per account tier ------------------------

CREATE TABLE @extschema@.sheet_field (
    field name PRIMARY KEY,
    bit integer NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 30),
    sheet text NOT NULL,
    label_en text NOT NULL,
    label_zh text NOT NULL
);
COMMENT ON TABLE @extschema@.sheet_field IS 'Fields that sheet completeness (资料完整度) can check: the CDP sheet columns of cdp.account_profile plus a few account facts; fixed by cdp, referenced by cdp.sheet_requirement';
COMMENT ON COLUMN @extschema@.sheet_field.field IS 'Field name (a cdp.account_profile or cdp.account column, or contacts / decision_maker)';
COMMENT ON COLUMN @extschema@.sheet_field.bit IS 'Bit of the field in the completeness masks (internal)';
COMMENT ON COLUMN @extschema@.sheet_field.sheet IS 'Sheet the field belongs to (account_profile, development_strategy, operating_kpis, account)';
COMMENT ON COLUMN @extschema@.sheet_field.label_en IS 'English label';
COMMENT ON COLUMN @extschema@.sheet_field.label_zh IS 'Chinese label';

INSERT INTO @extschema@.sheet_field (field, bit, sheet, label_en, label_zh) VALUES
    ('legal_representative',   0, 'account_profile', 'Person in charge', '法人/负责人'),
    ('org_structure',          1, 'account_profile', 'Organisation structure', '组织结构'),
    ('decision_process',       2, 'account_profile', 'Decision process', '决策流程'),
    ('scale',                  3, 'account_profile', 'Scale', '规模'),
    ('development_plan',       4, 'account_profile', 'Development plan', '发展规划'),
    ('pain_points',            5, 'account_profile', 'Pain points', '痛点'),
    ('service_fit',            6, 'development_strategy', 'Service fit', '服务匹配'),
    ('key_people',             7, 'development_strategy', 'Key people', '关键人'),
    ('key_person_actions',     8, 'development_strategy', 'Key-person actions', '关键人行动'),
    ('action_plan',            9, 'development_strategy', 'Action plan', '行动计划'),
    ('profit_level',          10, 'operating_kpis', 'Profit level', '利润水平'),
    ('acquisition_cost',      11, 'operating_kpis', 'Acquisition cost', '获客成本'),
    ('equipment_budget',      12, 'operating_kpis', 'Equipment budget', '设备预算'),
    ('annual_purchase_volume',13, 'operating_kpis', 'Annual purchase volume', '年采购量'),
    ('current_supplier',      14, 'operating_kpis', 'Current supplier', '现有供应商'),
    ('industry',              15, 'account', 'Industry', '行业'),
    ('employees',             16, 'account', 'Employees', '员工人数'),
    ('annual_revenue',        17, 'account', 'Annual revenue', '年营业额'),
    ('city',                  18, 'account', 'City', '城市'),
    ('owner',                 19, 'account', 'Sales owner', '负责销售'),
    ('contacts',              20, 'account', 'At least one contact', '联系人'),
    ('decision_maker',        21, 'account', 'A decision-maker contact', '决策人');

CREATE TABLE @extschema@.sheet_requirement (
    tier text NOT NULL CHECK (tier IN ('key', 'standard', 'long_tail')),
    field name NOT NULL REFERENCES @extschema@.sheet_field,
    builtin boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tier, field)
);
COMMENT ON TABLE @extschema@.sheet_requirement IS 'Required CDP sheet fields per account tier (各级客户必填资料): data, not code; key accounts (重点客户) need more. Edit the rows to change what sheet_completeness and the sheet_complete stage guard check';
COMMENT ON COLUMN @extschema@.sheet_requirement.tier IS 'Account tier: key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_requirement.field IS 'Field that must be filled (see cdp.sheet_field)';
COMMENT ON COLUMN @extschema@.sheet_requirement.builtin IS 'true for the requirements shipped with cdp; pg_dump keeps only the others';

INSERT INTO @extschema@.sheet_requirement (tier, field, builtin)
SELECT r.tier, f.field, true
  FROM (VALUES
    ('long_tail', ARRAY['industry', 'city', 'contacts']),
    ('standard',  ARRAY['industry', 'city', 'contacts', 'owner', 'employees', 'scale', 'pain_points',
                        'decision_maker', 'service_fit']),
    ('key',       ARRAY['industry', 'city', 'contacts', 'owner', 'employees', 'annual_revenue',
                        'legal_representative', 'org_structure', 'decision_process', 'scale',
                        'development_plan', 'pain_points', 'service_fit', 'key_people',
                        'key_person_actions', 'action_plan', 'profit_level', 'equipment_budget',
                        'annual_purchase_volume', 'current_supplier', 'decision_maker'])
  ) AS r(tier, fields)
 CROSS JOIN LATERAL pg_catalog.unnest(r.fields) AS f(field);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.sheet_requirement', 'WHERE NOT builtin');
-- sheet_field is fixed by cdp (the views test its fields by bit): registered
-- so that the rule "every table is kept by pg_dump" holds, with no rows to keep
SELECT pg_catalog.pg_extension_config_dump('@extschema@.sheet_field', 'WHERE false');
GRANT SELECT ON @extschema@.sheet_field, @extschema@.sheet_requirement TO PUBLIC;

-- CDP sheets ---------------------------------------------------------------------

-- Per account: its contacts, aggregated once over cdp.contact.
CREATE VIEW @extschema@.sheet_completeness WITH (security_invoker = true) AS
WITH req AS (
    SELECT r.tier,
           pg_catalog.sum(1 OPERATOR(pg_catalog.<<) f.bit)::integer AS mask,
           pg_catalog.count(*)::integer AS required
      FROM @extschema@.sheet_requirement r
      JOIN @extschema@.sheet_field f USING (field)
     GROUP BY r.tier
), con AS (
    SELECT c.account_id,
           pg_catalog.count(*) AS contacts,
           pg_catalog.count(*) FILTER (WHERE c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS decision_makers
      FROM @extschema@.contact c
     WHERE c.account_id IS NOT NULL
     GROUP BY c.account_id
), filled AS (
    SELECT a.account_id, a.name, a.tier, a.owner, a.stage, a.created_at,
           @extschema@.segment_of(a.segment, a.employees, a.annual_revenue) AS segment,
           p.updated_at AS profile_updated_at,
             (CASE WHEN pg_catalog.btrim(p.legal_representative) OPERATOR(pg_catalog.<>) '' THEN 1 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.org_structure) OPERATOR(pg_catalog.<>) '' THEN 2 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.decision_process) OPERATOR(pg_catalog.<>) '' THEN 4 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.scale) OPERATOR(pg_catalog.<>) '' THEN 8 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.development_plan) OPERATOR(pg_catalog.<>) '' THEN 16 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.pain_points) OPERATOR(pg_catalog.<>) '' THEN 32 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.service_fit) OPERATOR(pg_catalog.<>) '' THEN 64 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.key_people) OPERATOR(pg_catalog.<>) '' THEN 128 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.key_person_actions) OPERATOR(pg_catalog.<>) '' THEN 256 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.action_plan) OPERATOR(pg_catalog.<>) '' THEN 512 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN p.profit_level IS NOT NULL THEN 1024 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN p.acquisition_cost IS NOT NULL THEN 2048 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN p.equipment_budget IS NOT NULL THEN 4096 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN p.annual_purchase_volume IS NOT NULL THEN 8192 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(p.current_supplier) OPERATOR(pg_catalog.<>) '' THEN 16384 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(a.industry) OPERATOR(pg_catalog.<>) '' THEN 32768 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN a.employees IS NOT NULL THEN 65536 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN a.annual_revenue IS NOT NULL THEN 131072 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN pg_catalog.btrim(a.city) OPERATOR(pg_catalog.<>) '' THEN 262144 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN a.owner IS NOT NULL THEN 524288 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN c.contacts OPERATOR(pg_catalog.>) 0 THEN 1048576 ELSE 0 END)
           OPERATOR(pg_catalog.|) (CASE WHEN c.decision_makers OPERATOR(pg_catalog.>) 0 THEN 2097152 ELSE 0 END) AS mask
      FROM @extschema@.account a
      LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
      LEFT JOIN con c ON c.account_id OPERATOR(pg_catalog.=) a.account_id
), scored AS (
    SELECT x.*, coalesce(r.required, 0) AS required,
           coalesce(r.mask, 0) OPERATOR(pg_catalog.&) (OPERATOR(pg_catalog.~) x.mask) AS missing_mask,
           pg_catalog.bit_count((x.mask OPERATOR(pg_catalog.&) coalesce(r.mask, 0))::bit(22))::integer
               AS filled
      FROM filled x
      LEFT JOIN req r ON r.tier OPERATOR(pg_catalog.=) x.tier
)
SELECT s.account_id,
       s.name AS account_name,
       s.tier,
       coalesce(s.segment, 'unclassified') AS segment,
       s.owner::text AS owner,
       s.stage,
       s.required AS required_fields,
       s.filled AS filled_fields,
       CASE WHEN s.required OPERATOR(pg_catalog.=) 0 THEN 1.0
            ELSE pg_catalog.round(s.filled::numeric OPERATOR(pg_catalog./) s.required, 3) END AS completeness,
       s.filled OPERATOR(pg_catalog.=) s.required AS is_complete,
       NULLIF(pg_catalog.concat_ws(', ',
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0 THEN 'legal_representative' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0 THEN 'org_structure' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 4) OPERATOR(pg_catalog.<>) 0 THEN 'decision_process' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN 'scale' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 16) OPERATOR(pg_catalog.<>) 0 THEN 'development_plan' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 32) OPERATOR(pg_catalog.<>) 0 THEN 'pain_points' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 64) OPERATOR(pg_catalog.<>) 0 THEN 'service_fit' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 128) OPERATOR(pg_catalog.<>) 0 THEN 'key_people' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 256) OPERATOR(pg_catalog.<>) 0 THEN 'key_person_actions' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 512) OPERATOR(pg_catalog.<>) 0 THEN 'action_plan' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1024) OPERATOR(pg_catalog.<>) 0 THEN 'profit_level' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2048) OPERATOR(pg_catalog.<>) 0 THEN 'acquisition_cost' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 4096) OPERATOR(pg_catalog.<>) 0 THEN 'equipment_budget' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 8192) OPERATOR(pg_catalog.<>) 0 THEN 'annual_purchase_volume' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 16384) OPERATOR(pg_catalog.<>) 0 THEN 'current_supplier' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 32768) OPERATOR(pg_catalog.<>) 0 THEN 'industry' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 65536) OPERATOR(pg_catalog.<>) 0 THEN 'employees' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 131072) OPERATOR(pg_catalog.<>) 0 THEN 'annual_revenue' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 262144) OPERATOR(pg_catalog.<>) 0 THEN 'city' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 524288) OPERATOR(pg_catalog.<>) 0 THEN 'owner' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 1048576) OPERATOR(pg_catalog.<>) 0 THEN 'contacts' END,
                                 CASE WHEN (s.missing_mask OPERATOR(pg_catalog.&) 2097152) OPERATOR(pg_catalog.<>) 0 THEN 'decision_maker' END), '') AS missing_fields,
       s.profile_updated_at,
       s.created_at AS account_created_at
  FROM scored s;
COMMENT ON VIEW @extschema@.sheet_completeness IS 'Sheet completeness (资料完整度) per account: how many of the fields its tier requires (cdp.sheet_requirement) are filled, and which are missing; key accounts (重点客户) require more';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_completeness.tier IS 'Account tier (客户等级): key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_completeness.segment IS 'Segment (客户分层) from cdp.segment_of: big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_completeness.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_completeness.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_completeness.required_fields IS 'Number of fields the tier requires (必填项数)';
COMMENT ON COLUMN @extschema@.sheet_completeness.filled_fields IS 'Number of required fields that are filled (已填项数)';
COMMENT ON COLUMN @extschema@.sheet_completeness.completeness IS 'Share of required fields filled, 0 to 1 (完整度); 1 when the tier requires nothing';
COMMENT ON COLUMN @extschema@.sheet_completeness.is_complete IS 'true when every required field is filled (资料齐全)';
COMMENT ON COLUMN @extschema@.sheet_completeness.missing_fields IS 'Required fields still empty, comma separated (缺失字段); NULL when complete';
COMMENT ON COLUMN @extschema@.sheet_completeness.profile_updated_at IS 'When the account''s CDP sheet was last updated (NULL when it has none)';
COMMENT ON COLUMN @extschema@.sheet_completeness.account_created_at IS 'When the account was created (建档时间)';

-- STABLE: reads tables.  A lifecycle stage guard: attach it to a stage with
--   UPDATE cdp.lifecycle_stage SET guard = 'cdp.sheet_complete(regclass,text,text)'::regprocedure ...
CREATE FUNCTION @extschema@.sheet_complete(entity regclass, entity_key text, to_stage text)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    acc bigint;
    ok boolean;
BEGIN
    IF entity IS NULL OR entity_key IS NULL THEN
        RETURN NULL;
    END IF;
    IF entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass THEN
        acc := entity_key::bigint;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.lead'::regclass THEN
        SELECT l.account_id INTO acc FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) entity_key::bigint;
    ELSIF entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass THEN
        SELECT o.account_id INTO acc FROM @extschema@.opportunity o WHERE o.opportunity_id OPERATOR(pg_catalog.=) entity_key::bigint;
    ELSE
        RAISE EXCEPTION 'cdp.sheet_complete does not know how to find the account of "%"', entity
            USING ERRCODE = '22023',
                  HINT = 'Use it as a guard on stages of cdp.account, cdp.lead or cdp.opportunity, or write a guard that maps your table to an account.';
    END IF;
    IF acc IS NULL THEN
        RETURN false;       -- no account yet: nothing is known about it
    END IF;
    SELECT s.is_complete INTO ok FROM @extschema@.sheet_completeness s WHERE s.account_id OPERATOR(pg_catalog.=) acc;
    RETURN coalesce(ok, false);
END
$$;
COMMENT ON FUNCTION @extschema@.sheet_complete(regclass, text, text) IS 'Lifecycle stage guard (资料完整度门槛): true when the account of the entity (an account, or the account of a lead or opportunity) has every CDP sheet field its tier requires; false refuses the stage with 23514';

CREATE VIEW @extschema@.sheet_account_profile WITH (security_invoker = true) AS
WITH con AS (
    SELECT c.account_id,
           pg_catalog.count(*) AS contacts,
           pg_catalog.count(*) FILTER (WHERE c.verified) AS verified_contacts,
           pg_catalog.count(*) FILTER (WHERE c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS decision_makers
      FROM @extschema@.contact c
     WHERE c.account_id IS NOT NULL
     GROUP BY c.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       a.short_name,
       a.name_en,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.stage,
       a.industry,
       a.city,
       a.province,
       p.legal_representative AS person_in_charge,
       a.owner::text AS owner,
       p.org_structure AS organisation,
       p.decision_process,
       coalesce(c.contacts, 0) AS contacts,
       coalesce(c.verified_contacts, 0) AS verified_contacts,
       coalesce(c.decision_makers, 0) AS decision_makers,
       a.employees,
       a.annual_revenue AS annual_revenue_cny,
       p.scale,
       p.development_plan,
       p.pain_points,
       p.updated_at AS profile_updated_at
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN con c ON c.account_id OPERATOR(pg_catalog.=) a.account_id;
COMMENT ON VIEW @extschema@.sheet_account_profile IS 'Customer information sheet (客户信息表), one row per account: who they are, who is in charge, organisation, contacts, scale, development plan and pain points';
COMMENT ON COLUMN @extschema@.sheet_account_profile.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_account_profile.account_name IS 'Registered company name (客户名称/主体)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.short_name IS 'Short name or brand (简称)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.name_en IS 'English or pinyin name (英文名)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_account_profile.tier IS 'Account tier (客户等级): key, standard or long_tail';
COMMENT ON COLUMN @extschema@.sheet_account_profile.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.industry IS 'Industry (行业)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.city IS 'City as entered (城市)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.province IS 'Province or region (省份)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.person_in_charge IS 'Legal representative or main principal (法人/负责人)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.organisation IS 'Organisation structure (组织结构)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.decision_process IS 'How purchases are decided (决策流程)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.contacts IS 'Number of contacts at the account (联系人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.verified_contacts IS 'Contacts whose details were confirmed (已核实联系人)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.decision_makers IS 'Contacts marked as decision makers (决策人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.employees IS 'Number of employees (员工人数)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.annual_revenue_cny IS 'Annual revenue in CNY (年营业额)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.scale IS 'Business scale in words: sites, fleet, capacity (规模)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.development_plan IS 'The customer''s development plans (发展规划)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.pain_points IS 'Pain points and needs (痛点)';
COMMENT ON COLUMN @extschema@.sheet_account_profile.profile_updated_at IS 'When the sheet was last updated (NULL when there is none)';

CREATE VIEW @extschema@.sheet_development_strategy WITH (security_invoker = true) AS
WITH opp AS (
    SELECT o.account_id,
           pg_catalog.count(*) AS open_opportunities,
           pg_catalog.sum(o.amount) AS open_pipeline,
           pg_catalog.min(o.expected_close) AS next_expected_close
      FROM @extschema@.opportunity o
     WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])
     GROUP BY o.account_id
), tp AS (
    SELECT t.account_id,
           pg_catalog.max(t.occurred_at) AS last_touch_at,
           pg_catalog.count(*) FILTER (WHERE t.occurred_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)) AS touches_90d
      FROM @extschema@.touchpoint t
     WHERE t.account_id IS NOT NULL
     GROUP BY t.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.stage,
       a.owner::text AS owner,
       p.pain_points,
       p.service_fit,
       p.key_people,
       p.key_person_actions,
       p.action_plan,
       p.current_supplier,
       coalesce(o.open_opportunities, 0) AS open_opportunities,
       coalesce(o.open_pipeline, 0) AS open_pipeline_cny,
       o.next_expected_close,
       t.last_touch_at,
       coalesce(t.touches_90d, 0) AS touches_90d
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN opp o ON o.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN tp t ON t.account_id OPERATOR(pg_catalog.=) a.account_id;
COMMENT ON VIEW @extschema@.sheet_development_strategy IS 'Development strategy sheet (客户开发策略表), one row per account: how our offer fits, key people and actions, the action plan, and the pipeline and recent contact that show whether it is being followed';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.pain_points IS 'Pain points and needs (痛点)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.service_fit IS 'How our offer fits the needs (服务匹配)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.key_people IS 'Key people and their attitudes (关键人)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.key_person_actions IS 'Planned actions per key person (关键人行动)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.action_plan IS 'Development action plan (行动计划)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.current_supplier IS 'Current main supplier (现有供应商)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.open_opportunities IS 'Opportunities neither won nor lost (在跟商机数)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.open_pipeline_cny IS 'Amount of the open opportunities in CNY (在跟商机金额)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.next_expected_close IS 'Earliest expected close date of an open opportunity (最近预计成交日期)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.last_touch_at IS 'Latest interaction with the account (最近触达时间)';
COMMENT ON COLUMN @extschema@.sheet_development_strategy.touches_90d IS 'Interactions in the last 90 days (近90天触达次数)';

CREATE VIEW @extschema@.sheet_operating_kpis WITH (security_invoker = true) AS
WITH ord AS (
    SELECT o.account_id,
           pg_catalog.sum(o.amount) AS revenue,
           pg_catalog.sum(o.amount OPERATOR(pg_catalog.-) o.cost) FILTER (WHERE o.cost IS NOT NULL) AS gross_profit,
           pg_catalog.count(*) AS orders
      FROM @extschema@."order" o
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
     GROUP BY o.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.stage,
       a.owner::text AS owner,
       p.profit_level,
       p.acquisition_cost AS acquisition_cost_cny,
       p.equipment_budget AS equipment_budget_cny,
       p.annual_purchase_volume AS annual_purchase_volume_cny,
       coalesce(o.orders, 0) AS orders_12m,
       coalesce(o.revenue, 0) AS revenue_12m_cny,
       o.gross_profit AS gross_profit_12m_cny,
       CASE WHEN o.revenue OPERATOR(pg_catalog.>) 0 AND o.gross_profit IS NOT NULL
            THEN pg_catalog.round(o.gross_profit OPERATOR(pg_catalog./) o.revenue, 3) END AS gross_margin_12m,
       CASE WHEN p.annual_purchase_volume OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(o.revenue, 0) OPERATOR(pg_catalog./) p.annual_purchase_volume, 3) END AS share_of_wallet
  FROM @extschema@.account a
  LEFT JOIN @extschema@.account_profile p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN ord o ON o.account_id OPERATOR(pg_catalog.=) a.account_id;
COMMENT ON VIEW @extschema@.sheet_operating_kpis IS 'Operating KPI sheet (客户经营指标表), one row per account: profit level, acquisition cost, equipment budget, and our revenue, margin and share of wallet over the last 12 months';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.stage IS 'Current lifecycle stage (生命周期阶段)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.profit_level IS 'Customer profit level (利润水平): loss, low, medium, high';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.acquisition_cost_cny IS 'Customer acquisition cost so far in CNY (获客成本)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.equipment_budget_cny IS 'Equipment budget for the year in CNY (设备预算)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.annual_purchase_volume_cny IS 'Yearly purchases in our category from all suppliers in CNY (年采购量)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.orders_12m IS 'Our orders in the last 12 months (近12月订单数)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.revenue_12m_cny IS 'Our order revenue in the last 12 months in CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.gross_profit_12m_cny IS 'Revenue minus cost of goods of those orders that have a cost, CNY (近12月毛利)';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.gross_margin_12m IS 'Gross profit over revenue, 0 to 1 (毛利率); NULL without revenue';
COMMENT ON COLUMN @extschema@.sheet_operating_kpis.share_of_wallet IS 'Our 12-month revenue over the annual purchase volume (钱包份额); NULL when the volume is unknown';

CREATE VIEW @extschema@.sheet_order_history WITH (security_invoker = true) AS
WITH own AS (
    SELECT o.account_id,
           pg_catalog.count(*) AS orders,
           pg_catalog.sum(o.amount) AS amount,
           pg_catalog.sum(o.amount) FILTER (WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)) AS amount_12m,
           pg_catalog.sum(o.amount) FILTER (WHERE o.ordered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
                                              AND o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '2 years'::interval)) AS amount_prev_12m,
           pg_catalog.min(o.ordered_at) AS first_order_at,
           pg_catalog.max(o.ordered_at) AS last_order_at
      FROM @extschema@."order" o
     GROUP BY o.account_id
), comp AS (
    SELECT c.account_id,
           pg_catalog.count(*) AS orders,
           pg_catalog.sum(c.amount) AS amount,
           pg_catalog.sum(c.amount) FILTER (WHERE c.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)::date) AS amount_12m,
           pg_catalog.sum(c.amount) FILTER (WHERE c.ordered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)::date
                                              AND c.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '2 years'::interval)::date) AS amount_prev_12m,
           pg_catalog.max(c.ordered_at) AS last_order_on,
           pg_catalog.mode() WITHIN GROUP (ORDER BY c.competitor) AS main_competitor
      FROM @extschema@.competitor_order c
     GROUP BY c.account_id
)
SELECT a.account_id,
       a.name AS account_name,
       coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
       a.tier,
       a.owner::text AS owner,
       coalesce(w.orders, 0) AS own_orders,
       coalesce(w.amount, 0) AS own_amount_cny,
       coalesce(w.amount_12m, 0) AS own_amount_12m_cny,
       coalesce(w.amount_prev_12m, 0) AS own_amount_prev_12m_cny,
       CASE WHEN w.amount_prev_12m OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(w.amount_12m, 0) OPERATOR(pg_catalog./) w.amount_prev_12m) OPERATOR(pg_catalog.-) 1, 3) END AS own_trend,
       w.first_order_at,
       w.last_order_at,
       coalesce(c.orders, 0) AS competitor_orders,
       coalesce(c.amount, 0) AS competitor_amount_cny,
       coalesce(c.amount_12m, 0) AS competitor_amount_12m_cny,
       coalesce(c.amount_prev_12m, 0) AS competitor_amount_prev_12m_cny,
       CASE WHEN c.amount_prev_12m OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(c.amount_12m, 0) OPERATOR(pg_catalog./) c.amount_prev_12m) OPERATOR(pg_catalog.-) 1, 3) END AS competitor_trend,
       c.main_competitor,
       c.last_order_on AS competitor_last_order_on,
       CASE WHEN (coalesce(w.amount_12m, 0) OPERATOR(pg_catalog.+) coalesce(c.amount_12m, 0)) OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(w.amount_12m, 0) OPERATOR(pg_catalog./) (coalesce(w.amount_12m, 0) OPERATOR(pg_catalog.+) coalesce(c.amount_12m, 0)), 3)
       END AS our_share_12m
  FROM @extschema@.account a
  LEFT JOIN own w ON w.account_id OPERATOR(pg_catalog.=) a.account_id
  LEFT JOIN comp c ON c.account_id OPERATOR(pg_catalog.=) a.account_id
 WHERE w.account_id IS NOT NULL OR c.account_id IS NOT NULL;
COMMENT ON VIEW @extschema@.sheet_order_history IS 'Order history sheet (历史订单表), one row per account with any order: our orders and the competitors'' orders we know of, the last 12 months against the 12 before, and our share';
COMMENT ON COLUMN @extschema@.sheet_order_history.account_id IS 'Account identifier';
COMMENT ON COLUMN @extschema@.sheet_order_history.account_name IS 'Registered company name (客户名称)';
COMMENT ON COLUMN @extschema@.sheet_order_history.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.sheet_order_history.tier IS 'Account tier (客户等级)';
COMMENT ON COLUMN @extschema@.sheet_order_history.owner IS 'Sales owner role (负责销售)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_orders IS 'All our orders from the account (我方订单数)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_cny IS 'Value of all our orders in CNY (我方订单总额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_12m_cny IS 'Our order value in the last 12 months, CNY (近12月我方订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_amount_prev_12m_cny IS 'Our order value in the 12 months before that, CNY (上一个12月我方订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.own_trend IS 'Change of our order value, last 12 months over the 12 before minus 1 (我方趋势), e.g. 0.25 = +25%; NULL without earlier orders';
COMMENT ON COLUMN @extschema@.sheet_order_history.first_order_at IS 'Our first order (首单时间)';
COMMENT ON COLUMN @extschema@.sheet_order_history.last_order_at IS 'Our latest order (最近订单时间)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_orders IS 'Competitor orders we know of (竞品订单数)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_cny IS 'Estimated value of all known competitor orders, CNY (竞品订单总额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_12m_cny IS 'Competitor order value in the last 12 months, CNY (近12月竞品订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_amount_prev_12m_cny IS 'Competitor order value in the 12 months before that, CNY (上一个12月竞品订单额)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_trend IS 'Change of competitor order value, last 12 months over the 12 before minus 1 (竞品趋势); NULL without earlier orders';
COMMENT ON COLUMN @extschema@.sheet_order_history.main_competitor IS 'Competitor with the most known orders at the account (主要竞争对手)';
COMMENT ON COLUMN @extschema@.sheet_order_history.competitor_last_order_on IS 'Date of the latest known competitor order (最近竞品订单日期)';
COMMENT ON COLUMN @extschema@.sheet_order_history.our_share_12m IS 'Our share of the account''s known orders in the last 12 months, 0 to 1 (我方份额)';

-- Accounts meet city_market rows on cdp.city_key (广州, 广州市, Guangzhou, GZ
-- are all 广州市), or, for a spelling city_key does not know or finds
-- ambiguous, on its matching form (cdp.city_alias_form).  city_key is STABLE
-- (it reads cdp.city_alias), so it cannot be indexed; it runs once per
-- distinct spelling: accounts and revenue are first counted per city as
-- entered, then those few rows are keyed and summed.
CREATE VIEW @extschema@.sheet_city_market WITH (security_invoker = true) AS
WITH acc_raw AS (
    SELECT a.city,
           pg_catalog.count(*) AS accounts,
           pg_catalog.count(*) FILTER (WHERE a.stage OPERATOR(pg_catalog.=) ANY (ARRAY['customer', 'advocate']::text[])) AS customers
      FROM @extschema@.account a
     WHERE a.city IS NOT NULL
     GROUP BY a.city
), rev_raw AS (
    SELECT a.city,
           pg_catalog.sum(o.amount) AS revenue
      FROM @extschema@."order" o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
       AND a.city IS NOT NULL
     GROUP BY a.city
), acc AS (
    SELECT coalesce(@extschema@.city_key(r.city), @extschema@.city_alias_form(r.city)) AS city,
           pg_catalog.sum(r.accounts)::bigint AS accounts,
           pg_catalog.sum(r.customers)::bigint AS customers
      FROM acc_raw r
     GROUP BY 1
), rev AS (
    SELECT coalesce(@extschema@.city_key(r.city), @extschema@.city_alias_form(r.city)) AS city,
           pg_catalog.sum(r.revenue) AS revenue
      FROM rev_raw r
     GROUP BY 1
)
SELECT m.city_market_id,
       m.city,
       m.market,
       m.business_scale AS business_scale_cny,
       m.similar_customers,
       m.total_volume AS total_volume_cny,
       m.transaction_volume AS transaction_volume_cny,
       m.maturity AS market_maturity,
       coalesce(x.accounts, 0) AS our_accounts,
       coalesce(x.customers, 0) AS our_customers,
       coalesce(r.revenue, 0) AS our_revenue_12m_cny,
       CASE WHEN m.similar_customers OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(x.customers, 0)::numeric OPERATOR(pg_catalog./) m.similar_customers, 3) END AS customer_penetration,
       CASE WHEN m.transaction_volume OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coalesce(r.revenue, 0) OPERATOR(pg_catalog./) m.transaction_volume, 3) END AS share_of_transactions,
       m.updated_at
  FROM @extschema@.city_market m
  LEFT JOIN acc x ON x.city OPERATOR(pg_catalog.=) coalesce(@extschema@.city_key(m.city), @extschema@.city_alias_form(m.city))
  LEFT JOIN rev r ON r.city OPERATOR(pg_catalog.=) coalesce(@extschema@.city_key(m.city), @extschema@.city_alias_form(m.city));
COMMENT ON VIEW @extschema@.sheet_city_market IS 'City market sheet (城市市场信息表), one row per city and market: business scale, similar customers, total and transacted volume, maturity, and how many accounts, customers and how much revenue we have there (accounts are matched on cdp.city_key, so 广州, 广州市, Guangzhou and GZ are one city)';
COMMENT ON COLUMN @extschema@.sheet_city_market.city_market_id IS 'Sheet row identifier';
COMMENT ON COLUMN @extschema@.sheet_city_market.city IS 'City (城市)';
COMMENT ON COLUMN @extschema@.sheet_city_market.market IS 'Market or product line; all for the whole city (细分市场)';
COMMENT ON COLUMN @extschema@.sheet_city_market.business_scale_cny IS 'City business scale in CNY per year (城市业务规模)';
COMMENT ON COLUMN @extschema@.sheet_city_market.similar_customers IS 'Number of similar customers in the city (同类客户数量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.total_volume_cny IS 'Total business volume in CNY per year (业务总量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.transaction_volume_cny IS 'Volume actually transacted in CNY per year (成交量)';
COMMENT ON COLUMN @extschema@.sheet_city_market.market_maturity IS 'Market maturity (市场成熟度): emerging, growing, mature, saturated';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_accounts IS 'Our accounts in the city (我方客户数)';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_customers IS 'Our accounts in the customer or advocate stage in the city (成交客户数)';
COMMENT ON COLUMN @extschema@.sheet_city_market.our_revenue_12m_cny IS 'Our order revenue from the city in the last 12 months, CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.sheet_city_market.customer_penetration IS 'Our customers over the similar customers in the city, 0 to 1 (客户渗透率)';
COMMENT ON COLUMN @extschema@.sheet_city_market.share_of_transactions IS 'Our 12-month revenue over the transacted volume (成交份额)';
COMMENT ON COLUMN @extschema@.sheet_city_market.updated_at IS 'When the city figures were last updated';

-- 4R metrics ------------------------------------------------------------------------
--
-- Each 4R view is one row per month and segment (metrics_reach also per
-- channel).  Every measure is computed by one aggregate over one table,
-- stacked with UNION ALL and summed per month and segment: no full outer
-- joins, no per-row subqueries.

-- Probable duplicates follow the company matching module: an account is a
-- duplicate when an older account has the same canonical name
-- (cdp.company_key) or the same domain, free mail aside (cdp.email_domain).
-- The key is not computed per row: account_company_key_idx holds it with
-- account_id and (INCLUDE) name, so an index-only scan reads the keys already
-- in key and account_id order and the window needs neither the function nor a
-- sort.  Names longer than company_key accepts (1024 bytes, 54000) have no
-- key and are left out of the index, so that this index is never the reason
-- an account cannot be stored (today account_name_search_idx refuses them).
CREATE INDEX account_company_key_idx ON @extschema@.account (@extschema@.company_key(name), account_id)
    INCLUDE (name) WHERE NOT @extschema@.company_key_too_long(name);

CREATE VIEW @extschema@.metrics_recognize WITH (security_invoker = true) AS
WITH key_dup AS (
    -- not the oldest account of its company key
    SELECT k.account_id
      FROM (SELECT a.account_id,
                   pg_catalog.row_number() OVER (PARTITION BY @extschema@.company_key(a.name) ORDER BY a.account_id) AS n
              FROM @extschema@.account a
             WHERE NOT @extschema@.company_key_too_long(a.name)
               AND @extschema@.company_key(a.name) IS NOT NULL) k
     WHERE k.n OPERATOR(pg_catalog.>) 1
), domain_dup AS (
    -- not the oldest account of its domain, unless that is a free mail
    -- provider.  email_domain is a SQL function of some regular expressions:
    -- it runs once per domain that several accounts share, in HAVING on the
    -- group's own value (an aggregate, so that the planner does not move it
    -- below the grouping, where it would run once per account)
    SELECT a.account_id
      FROM (SELECT pg_catalog.lower(a.domain) AS domain, pg_catalog.min(a.account_id) AS first_id
              FROM @extschema@.account a
             WHERE a.domain IS NOT NULL
             GROUP BY pg_catalog.lower(a.domain)
            HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
               AND @extschema@.email_domain(pg_catalog.min(pg_catalog.lower(a.domain))) IS NOT NULL) g
      JOIN @extschema@.account a ON pg_catalog.lower(a.domain) OPERATOR(pg_catalog.=) g.domain
                                AND a.account_id OPERATOR(pg_catalog.>) g.first_id
), acc AS (
    SELECT s.account_id,
           pg_catalog.date_trunc('month', s.account_created_at)::date AS month,
           s.segment,
           s.completeness,
           s.is_complete,
           (kd.account_id IS NOT NULL OR dd.account_id IS NOT NULL) AS is_duplicate
      FROM @extschema@.sheet_completeness s
      LEFT JOIN key_dup kd ON kd.account_id OPERATOR(pg_catalog.=) s.account_id
      LEFT JOIN domain_dup dd ON dd.account_id OPERATOR(pg_catalog.=) s.account_id
), stacked AS (
    SELECT x.month, x.segment,
           pg_catalog.count(*) AS new_accounts,
           pg_catalog.count(*) FILTER (WHERE x.is_duplicate) AS duplicate_accounts,
           pg_catalog.sum(x.completeness) AS completeness_sum,
           pg_catalog.count(*) FILTER (WHERE x.is_complete) AS complete_profiles,
           0::bigint AS new_contacts, 0::bigint AS tagged_contacts, 0::bigint AS verified_contacts
      FROM acc x
     GROUP BY x.month, x.segment
    UNION ALL
    SELECT pg_catalog.date_trunc('month', c.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE c.decision_role IS NOT NULL),
           pg_catalog.count(*) FILTER (WHERE c.verified)
      FROM @extschema@.contact c
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(new_accounts)::bigint AS new_accounts,
           pg_catalog.sum(duplicate_accounts)::bigint AS duplicate_accounts,
           pg_catalog.sum(completeness_sum) AS completeness_sum,
           pg_catalog.sum(complete_profiles)::bigint AS complete_profiles,
           pg_catalog.sum(new_contacts)::bigint AS new_contacts,
           pg_catalog.sum(tagged_contacts)::bigint AS tagged_contacts,
           pg_catalog.sum(verified_contacts)::bigint AS verified_contacts
      FROM stacked
     GROUP BY month, segment
)
SELECT month, segment, new_accounts, duplicate_accounts,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(duplicate_accounts::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS duplicate_rate,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(completeness_sum OPERATOR(pg_catalog./) new_accounts, 3) END AS avg_profile_completeness,
       complete_profiles,
       CASE WHEN new_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(complete_profiles::numeric OPERATOR(pg_catalog./) new_accounts, 3) END AS complete_profile_rate,
       new_contacts, tagged_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(tagged_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS tagged_contact_rate,
       verified_contacts,
       CASE WHEN new_contacts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(verified_contacts::numeric OPERATOR(pg_catalog./) new_contacts, 3) END AS verified_contact_rate
  FROM summed;
COMMENT ON VIEW @extschema@.metrics_recognize IS '4R Recognize (识别): per month in which accounts and contacts were created, and segment: new accounts, probable duplicates, profile completeness as of now, tagged and verified contacts';
COMMENT ON COLUMN @extschema@.metrics_recognize.month IS 'Month the accounts and contacts were created (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_recognize.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.metrics_recognize.new_accounts IS 'Accounts created in the month (新增客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.duplicate_accounts IS 'Of those, probable duplicates of an older account: same canonical name (cdp.company_key), or same domain unless free mail (cdp.email_domain) (疑似重复客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.duplicate_rate IS 'Duplicate accounts over new accounts, 0 to 1 (重复率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.avg_profile_completeness IS 'Average sheet completeness of the new accounts as of now, 0 to 1 (平均资料完整度)';
COMMENT ON COLUMN @extschema@.metrics_recognize.complete_profiles IS 'New accounts whose sheet has every field their tier requires (资料齐全客户)';
COMMENT ON COLUMN @extschema@.metrics_recognize.complete_profile_rate IS 'Complete profiles over new accounts, 0 to 1 (资料齐全率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.new_contacts IS 'Contacts created in the month (新增联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.tagged_contacts IS 'Of those, contacts with a decision-chain role (已标记角色联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.tagged_contact_rate IS 'Tagged contacts over new contacts, 0 to 1 (标记率)';
COMMENT ON COLUMN @extschema@.metrics_recognize.verified_contacts IS 'Of those, contacts whose details were confirmed (已核实联系人)';
COMMENT ON COLUMN @extschema@.metrics_recognize.verified_contact_rate IS 'Verified contacts over new contacts, 0 to 1 (核实率)';

CREATE VIEW @extschema@.metrics_reach WITH (security_invoker = true) AS
WITH cons AS (
    -- the latest decision per contact and channel wins
    SELECT DISTINCT ON (k.contact_id, k.channel) k.contact_id, k.channel, k.granted
      FROM @extschema@.consent k
     ORDER BY k.contact_id, k.channel, k.recorded_at DESC, k.consent_id DESC
), tp AS (
    SELECT pg_catalog.date_trunc('month', t.occurred_at)::date AS month,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
           t.channel,
           t.direction,
           t.channel OPERATOR(pg_catalog.=) ANY (ARRAY['phone', 'email', 'wechat', 'sms', 'visit', 'meeting']::text[]) AS direct,
           t.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['connected', 'replied', 'opened']::text[]) AS connected,
           a.account_id,
           t.contact_id,
           t.lead_id,
           k.granted,
           t.cost
      FROM @extschema@.touchpoint t
      LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
      LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
      LEFT JOIN @extschema@.account a
             ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
      LEFT JOIN cons k ON k.contact_id OPERATOR(pg_catalog.=) t.contact_id AND k.channel OPERATOR(pg_catalog.=) t.channel
)
SELECT month, segment, channel,
       pg_catalog.count(*) AS touches,
       pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'inbound') AS inbound_touches,
       pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'outbound') AS outbound_touches,
       pg_catalog.count(*) FILTER (WHERE direct) AS direct_touches,
       pg_catalog.count(*) FILTER (WHERE NOT direct) AS indirect_touches,
       pg_catalog.count(*) FILTER (WHERE connected) AS connected_touches,
       pg_catalog.count(DISTINCT account_id) AS reached_accounts,
       pg_catalog.count(DISTINCT contact_id) AS reached_contacts,
       pg_catalog.count(DISTINCT lead_id) AS reached_leads,
       pg_catalog.count(DISTINCT contact_id) FILTER (WHERE granted) AS reached_contacts_with_consent,
       pg_catalog.count(*) FILTER (WHERE direction OPERATOR(pg_catalog.=) 'outbound' AND contact_id IS NOT NULL
                                     AND granted IS NOT TRUE) AS outbound_without_consent,
       coalesce(pg_catalog.sum(cost), 0) AS cost_cny
  FROM tp
 GROUP BY month, segment, channel;
COMMENT ON VIEW @extschema@.metrics_reach IS '4R Reach (触达): per month, segment and channel: touches inbound and outbound, direct (one-to-one: phone, email, wechat, sms, visit, meeting) and indirect, who was reached, and whether contacts reached have consent for the channel (latest decision as of now)';
COMMENT ON COLUMN @extschema@.metrics_reach.month IS 'Month of the interactions (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_reach.segment IS 'Segment of the account reached (客户分层); unclassified when the touch has no account';
COMMENT ON COLUMN @extschema@.metrics_reach.channel IS 'Channel (渠道): phone, email, wechat, sms, visit, event, web, ...';
COMMENT ON COLUMN @extschema@.metrics_reach.touches IS 'Interactions (触达次数)';
COMMENT ON COLUMN @extschema@.metrics_reach.inbound_touches IS 'Interactions they started (呼入/主动来访)';
COMMENT ON COLUMN @extschema@.metrics_reach.outbound_touches IS 'Interactions we started (呼出/主动触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.direct_touches IS 'One-to-one interactions: phone, email, wechat, sms, visit, meeting (直接触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.indirect_touches IS 'Other interactions: web, events, ads, content (间接触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.connected_touches IS 'Interactions whose outcome was connected, replied or opened (有效触达)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_accounts IS 'Distinct accounts reached (触达客户数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_contacts IS 'Distinct contacts reached (触达联系人数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_leads IS 'Distinct leads reached (触达线索数)';
COMMENT ON COLUMN @extschema@.metrics_reach.reached_contacts_with_consent IS 'Contacts reached whose latest consent decision for the channel is a grant (可合规触达联系人)';
COMMENT ON COLUMN @extschema@.metrics_reach.outbound_without_consent IS 'Outbound interactions with contacts who have no granted consent for the channel (未授权外呼/外发)';
COMMENT ON COLUMN @extschema@.metrics_reach.cost_cny IS 'What the interactions cost, CNY (触达成本)';

CREATE VIEW @extschema@.metrics_relationship WITH (security_invoker = true) AS
WITH roles AS (
    -- decision-chain coverage of an account: share of the roles of a complete
    -- buying centre (cdp.decision_roles_required(), as in
    -- cdp.opportunity_decision_chain) it has a contact for
    SELECT c.account_id,
           pg_catalog.count(DISTINCT c.decision_role) FILTER (
               WHERE c.decision_role OPERATOR(pg_catalog.=) ANY (@extschema@.decision_roles_required()))::numeric
               OPERATOR(pg_catalog./) pg_catalog.cardinality(@extschema@.decision_roles_required()) AS coverage,
           pg_catalog.bool_or(c.decision_role OPERATOR(pg_catalog.=) 'decision_maker') AS has_decision_maker
      FROM @extschema@.contact c
     WHERE c.account_id IS NOT NULL
     GROUP BY c.account_id
), stacked AS (
    SELECT pg_catalog.date_trunc('month', t.occurred_at)::date AS month,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
           pg_catalog.count(*) AS touches,
           pg_catalog.count(DISTINCT a.account_id) AS active_accounts,
           pg_catalog.count(DISTINCT t.contact_id) FILTER (WHERE t.direction OPERATOR(pg_catalog.=) 'inbound') AS active_relationships,
           0::bigint AS new_ties, 0::bigint AS opportunities, 0::numeric AS coverage_sum,
           0::bigint AS with_decision_maker, 0::bigint AS new_advocates, 0::bigint AS referrals
      FROM @extschema@.touchpoint t
      LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
      LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
      JOIN @extschema@.account a
        ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', r.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, pg_catalog.count(*), 0, 0, 0, 0, 0
      FROM @extschema@.relationship r
      JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) r.from_contact
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) c.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', o.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0,
           pg_catalog.count(*),
           coalesce(pg_catalog.sum(r.coverage), 0),
           pg_catalog.count(*) FILTER (WHERE r.has_decision_maker),
           0,
           pg_catalog.count(*) FILTER (WHERE o.referred_by IS NOT NULL)
      FROM @extschema@.opportunity o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
      LEFT JOIN roles r ON r.account_id OPERATOR(pg_catalog.=) o.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', h.entered_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, 0, 0, 0,
           pg_catalog.count(DISTINCT h.entity_key),
           0
      FROM @extschema@.stage_history h
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
       AND h.stage OPERATOR(pg_catalog.=) 'advocate'
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(touches)::bigint AS touches,
           pg_catalog.sum(active_accounts)::bigint AS active_accounts,
           pg_catalog.sum(active_relationships)::bigint AS active_relationships,
           pg_catalog.sum(new_ties)::bigint AS new_ties,
           pg_catalog.sum(opportunities)::bigint AS opportunities,
           pg_catalog.sum(coverage_sum) AS coverage_sum,
           pg_catalog.sum(with_decision_maker)::bigint AS with_decision_maker,
           pg_catalog.sum(new_advocates)::bigint AS new_advocates,
           pg_catalog.sum(referrals)::bigint AS referrals
      FROM stacked
     GROUP BY month, segment
)
SELECT month, segment, active_accounts, touches,
       CASE WHEN active_accounts OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(touches::numeric OPERATOR(pg_catalog./) active_accounts, 2) END AS engagement_frequency,
       active_relationships,
       new_ties AS new_relationships,
       opportunities AS new_opportunities,
       with_decision_maker AS opportunities_with_decision_maker,
       CASE WHEN opportunities OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(coverage_sum OPERATOR(pg_catalog./) opportunities, 3) END AS decision_chain_coverage,
       new_advocates,
       referrals AS referral_opportunities
  FROM summed;
COMMENT ON VIEW @extschema@.metrics_relationship IS '4R Relationship (关系): per month and segment: how often active accounts are engaged, contacts engaging back, new ties between people, decision-chain coverage of new opportunities (as of now), new advocates and referral business';
COMMENT ON COLUMN @extschema@.metrics_relationship.month IS 'Month (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_relationship.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified';
COMMENT ON COLUMN @extschema@.metrics_relationship.active_accounts IS 'Accounts with at least one interaction in the month (活跃客户)';
COMMENT ON COLUMN @extschema@.metrics_relationship.touches IS 'Interactions in the month with an account, directly or through its contact or lead (互动次数)';
COMMENT ON COLUMN @extschema@.metrics_relationship.engagement_frequency IS 'Interactions per active account in the month (互动频次)';
COMMENT ON COLUMN @extschema@.metrics_relationship.active_relationships IS 'Contacts who reached out to us (an inbound interaction) in the month (活跃关系)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_relationships IS 'Ties between people recorded in the month, by the segment of the first person''s account (新增人脉关系)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_opportunities IS 'Opportunities created in the month (新增商机)';
COMMENT ON COLUMN @extschema@.metrics_relationship.opportunities_with_decision_maker IS 'Of those, opportunities whose account has a decision-maker contact now (已接触决策人商机)';
COMMENT ON COLUMN @extschema@.metrics_relationship.decision_chain_coverage IS 'Average decision-chain coverage of those opportunities as of now: share of the roles of cdp.decision_roles_required() known at their accounts, 0 to 1, as in cdp.opportunity_decision_chain (决策链覆盖率)';
COMMENT ON COLUMN @extschema@.metrics_relationship.new_advocates IS 'Accounts that entered the advocate stage in the month (新增推荐者)';
COMMENT ON COLUMN @extschema@.metrics_relationship.referral_opportunities IS 'Opportunities created in the month that were referred by a contact (转介绍商机)';

CREATE VIEW @extschema@.metrics_return WITH (security_invoker = true) AS
WITH first_order AS (
    SELECT o.account_id, pg_catalog.min(o.ordered_at) AS first_at
      FROM @extschema@."order" o
     GROUP BY o.account_id
), stacked AS (
    -- entries into the b2b stages of accounts
    SELECT pg_catalog.date_trunc('month', h.entered_at)::date AS month,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'mql') AS mqls,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'sql') AS sqls,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'opportunity') AS opps,
           pg_catalog.count(*) FILTER (WHERE h.stage OPERATOR(pg_catalog.=) 'customer') AS customers,
           0::bigint AS leads, 0::bigint AS won, 0::bigint AS lost, 0::numeric AS won_revenue,
           0::numeric AS revenue, 0::numeric AS gross_profit, 0::bigint AS buyers, 0::bigint AS repeat_buyers,
           0::bigint AS first_buyers, 0::numeric AS cost
      FROM @extschema@.stage_history h
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) h.entity_key::bigint
     WHERE h.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
       AND h.model OPERATOR(pg_catalog.=) 'b2b'
       AND h.stage OPERATOR(pg_catalog.=) ANY (ARRAY['mql', 'sql', 'opportunity', 'customer']::text[])
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', l.created_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, pg_catalog.count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0
      FROM @extschema@.lead l
      LEFT JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) l.account_id
     GROUP BY 1, 2
    UNION ALL
    SELECT pg_catalog.date_trunc('month', o.closed_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, 0,
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'),
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'lost'),
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0),
           0, 0, 0, 0, 0, 0
      FROM @extschema@.opportunity o
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
     WHERE o.closed_at IS NOT NULL AND o.stage OPERATOR(pg_catalog.=) ANY (ARRAY['won', 'lost']::text[])
     GROUP BY 1, 2
    UNION ALL
    SELECT b.month, b.segment, 0, 0, 0, 0, 0, 0, 0, 0,
           pg_catalog.sum(b.revenue), pg_catalog.sum(b.gross_profit),
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE b.first_at OPERATOR(pg_catalog.<) b.month),
           pg_catalog.count(*) FILTER (WHERE b.first_at OPERATOR(pg_catalog.>=) b.month),
           0
      FROM (SELECT pg_catalog.date_trunc('month', o.ordered_at)::date AS month,
                   coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified') AS segment,
                   o.account_id,
                   pg_catalog.sum(o.amount) AS revenue,
                   coalesce(pg_catalog.sum(o.amount OPERATOR(pg_catalog.-) o.cost), 0) AS gross_profit,
                   pg_catalog.min(f.first_at) AS first_at
              FROM @extschema@."order" o
              JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) o.account_id
              JOIN first_order f ON f.account_id OPERATOR(pg_catalog.=) o.account_id
             GROUP BY 1, 2, 3) b
     GROUP BY b.month, b.segment
    UNION ALL
    SELECT pg_catalog.date_trunc('month', t.occurred_at)::date,
           coalesce(@extschema@.segment_of(a.segment, a.employees, a.annual_revenue), 'unclassified'),
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           pg_catalog.sum(t.cost)
      FROM @extschema@.touchpoint t
      LEFT JOIN @extschema@.contact c ON c.contact_id OPERATOR(pg_catalog.=) t.contact_id
      LEFT JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) t.lead_id
      LEFT JOIN @extschema@.account a
             ON a.account_id OPERATOR(pg_catalog.=) coalesce(t.account_id, c.account_id, l.account_id)
     WHERE t.cost OPERATOR(pg_catalog.>) 0
     GROUP BY 1, 2
), summed AS (
    SELECT month, segment,
           pg_catalog.sum(leads)::bigint AS leads, pg_catalog.sum(mqls)::bigint AS mqls,
           pg_catalog.sum(sqls)::bigint AS sqls, pg_catalog.sum(opps)::bigint AS opps,
           pg_catalog.sum(customers)::bigint AS customers,
           pg_catalog.sum(won)::bigint AS won, pg_catalog.sum(lost)::bigint AS lost,
           pg_catalog.sum(won_revenue) AS won_revenue, pg_catalog.sum(revenue) AS revenue,
           pg_catalog.sum(gross_profit) AS gross_profit,
           pg_catalog.sum(buyers)::bigint AS buyers, pg_catalog.sum(repeat_buyers)::bigint AS repeat_buyers,
           pg_catalog.sum(first_buyers)::bigint AS first_buyers, pg_catalog.sum(cost) AS cost
      FROM stacked
     GROUP BY month, segment
), cumulative AS (
    SELECT s.*,
           pg_catalog.sum(s.revenue) OVER w AS revenue_to_date,
           pg_catalog.sum(s.first_buyers) OVER w AS buyers_to_date
      FROM summed s
    WINDOW w AS (PARTITION BY s.segment ORDER BY s.month)
)
SELECT month, segment,
       leads AS new_leads,
       mqls AS new_mqls,
       sqls AS new_sqls,
       opps AS new_opportunities,
       customers AS new_customers,
       CASE WHEN mqls OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(sqls::numeric OPERATOR(pg_catalog./) mqls, 3) END AS mql_to_sql_rate,
       CASE WHEN sqls OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(opps::numeric OPERATOR(pg_catalog./) sqls, 3) END AS sql_to_opportunity_rate,
       CASE WHEN opps OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(customers::numeric OPERATOR(pg_catalog./) opps, 3) END AS opportunity_to_customer_rate,
       won AS deals_won,
       lost AS deals_lost,
       CASE WHEN (won OPERATOR(pg_catalog.+) lost) OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(won::numeric OPERATOR(pg_catalog./) (won OPERATOR(pg_catalog.+) lost), 3) END AS win_rate,
       won_revenue AS won_revenue_cny,
       revenue AS order_revenue_cny,
       gross_profit AS gross_profit_cny,
       cost AS acquisition_cost_cny,
       CASE WHEN customers OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(cost OPERATOR(pg_catalog./) customers, 2) END AS cost_per_new_customer_cny,
       CASE WHEN cost OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((won_revenue OPERATOR(pg_catalog.-) cost) OPERATOR(pg_catalog./) cost, 3) END AS roi,
       buyers,
       repeat_buyers,
       CASE WHEN buyers OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(repeat_buyers::numeric OPERATOR(pg_catalog./) buyers, 3) END AS repeat_purchase_rate,
       CASE WHEN buyers_to_date OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round(revenue_to_date OPERATOR(pg_catalog./) buyers_to_date, 2) END AS customer_lifetime_value_cny
  FROM cumulative;
COMMENT ON VIEW @extschema@.metrics_return IS '4R Return (回报): per month and segment: entries into the b2b stages and the ratios between them (same-month flow; cohort conversion is in cdp.stage_conversion), deals won and lost, revenue, acquisition cost, ROI, repeat purchase and customer lifetime value';
COMMENT ON COLUMN @extschema@.metrics_return.month IS 'Month (月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_return.segment IS 'Segment (客户分层): big_b, small_b, big_c, small_c or unclassified (leads not matched to an account, touches without one)';
COMMENT ON COLUMN @extschema@.metrics_return.new_leads IS 'Leads created in the month (新增线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_mqls IS 'Accounts entering mql in the month (新增市场认可线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_sqls IS 'Accounts entering sql in the month (新增销售认可线索)';
COMMENT ON COLUMN @extschema@.metrics_return.new_opportunities IS 'Accounts entering opportunity in the month (新增商机客户)';
COMMENT ON COLUMN @extschema@.metrics_return.new_customers IS 'Accounts entering customer in the month (新增成交客户)';
COMMENT ON COLUMN @extschema@.metrics_return.mql_to_sql_rate IS 'sql entries over mql entries in the month (MQL→SQL 转化率, 同月流量比)';
COMMENT ON COLUMN @extschema@.metrics_return.sql_to_opportunity_rate IS 'opportunity entries over sql entries in the month (SQL→商机 转化率)';
COMMENT ON COLUMN @extschema@.metrics_return.opportunity_to_customer_rate IS 'customer entries over opportunity entries in the month (商机→成交 转化率)';
COMMENT ON COLUMN @extschema@.metrics_return.deals_won IS 'Opportunities won in the month (赢单数)';
COMMENT ON COLUMN @extschema@.metrics_return.deals_lost IS 'Opportunities lost in the month (输单数)';
COMMENT ON COLUMN @extschema@.metrics_return.win_rate IS 'Won over won plus lost, 0 to 1 (赢单率)';
COMMENT ON COLUMN @extschema@.metrics_return.won_revenue_cny IS 'Amount of the opportunities won in the month, CNY (赢单金额)';
COMMENT ON COLUMN @extschema@.metrics_return.order_revenue_cny IS 'Value of the orders placed in the month, CNY (订单收入)';
COMMENT ON COLUMN @extschema@.metrics_return.gross_profit_cny IS 'Order value minus cost of goods of the month''s orders that have a cost, CNY (毛利)';
COMMENT ON COLUMN @extschema@.metrics_return.acquisition_cost_cny IS 'Cost of the month''s interactions, by the segment of the account they reached directly or through a contact or lead, CNY (获客成本)';
COMMENT ON COLUMN @extschema@.metrics_return.cost_per_new_customer_cny IS 'Acquisition cost over new customers, CNY (单客获客成本)';
COMMENT ON COLUMN @extschema@.metrics_return.roi IS '(won revenue - acquisition cost) / acquisition cost (投资回报率)';
COMMENT ON COLUMN @extschema@.metrics_return.buyers IS 'Accounts that ordered in the month (下单客户数)';
COMMENT ON COLUMN @extschema@.metrics_return.repeat_buyers IS 'Of those, accounts that had ordered in an earlier month (复购客户数)';
COMMENT ON COLUMN @extschema@.metrics_return.repeat_purchase_rate IS 'Repeat buyers over buyers, 0 to 1 (复购率)';
COMMENT ON COLUMN @extschema@.metrics_return.customer_lifetime_value_cny IS 'Order revenue to date over accounts that have ordered to date, in the segment, CNY (客户终身价值)';

CREATE VIEW @extschema@.metrics_return_campaign WITH (security_invoker = true) AS
WITH ld AS (
    SELECT l.campaign_id, pg_catalog.count(*) AS leads
      FROM @extschema@.lead l WHERE l.campaign_id IS NOT NULL GROUP BY l.campaign_id
), first_lead AS (
    -- first-touch attribution: the campaign of an account's earliest lead
    SELECT DISTINCT ON (l.account_id) l.account_id, l.campaign_id
      FROM @extschema@.lead l
     WHERE l.account_id IS NOT NULL AND l.campaign_id IS NOT NULL
     ORDER BY l.account_id, l.created_at, l.lead_id
), op AS (
    SELECT coalesce(o.campaign_id, ol.campaign_id, fl.campaign_id) AS campaign_id,
           pg_catalog.count(*) AS opportunities,
           pg_catalog.count(*) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won') AS won,
           coalesce(pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.=) 'won'), 0) AS won_revenue
      FROM @extschema@.opportunity o
      LEFT JOIN @extschema@.lead ol ON ol.lead_id OPERATOR(pg_catalog.=) o.lead_id
      LEFT JOIN first_lead fl ON fl.account_id OPERATOR(pg_catalog.=) o.account_id
     GROUP BY 1
), tp AS (
    SELECT t.campaign_id, pg_catalog.count(*) AS touches, coalesce(pg_catalog.sum(t.cost), 0) AS touch_cost
      FROM @extschema@.touchpoint t WHERE t.campaign_id IS NOT NULL GROUP BY t.campaign_id
)
SELECT c.campaign_id,
       c.name AS campaign_name,
       coalesce(c.channel, 'unknown') AS channel,
       pg_catalog.date_trunc('month', c.started_on)::date AS start_month,
       c.started_on,
       c.ended_on,
       c.budget AS budget_cny,
       c.cost AS cost_cny,
       coalesce(ld.leads, 0) AS leads,
       coalesce(tp.touches, 0) AS touches,
       coalesce(op.opportunities, 0) AS opportunities,
       coalesce(op.won, 0) AS deals_won,
       coalesce(op.won_revenue, 0) AS won_revenue_cny,
       CASE WHEN ld.leads OPERATOR(pg_catalog.>) 0 THEN pg_catalog.round(c.cost OPERATOR(pg_catalog./) ld.leads, 2) END AS cost_per_lead_cny,
       CASE WHEN c.cost OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.round((coalesce(op.won_revenue, 0) OPERATOR(pg_catalog.-) c.cost) OPERATOR(pg_catalog./) c.cost, 3) END AS roi
  FROM @extschema@.campaign c
  LEFT JOIN ld ON ld.campaign_id OPERATOR(pg_catalog.=) c.campaign_id
  LEFT JOIN op ON op.campaign_id OPERATOR(pg_catalog.=) c.campaign_id
  LEFT JOIN tp ON tp.campaign_id OPERATOR(pg_catalog.=) c.campaign_id;
COMMENT ON VIEW @extschema@.metrics_return_campaign IS '4R Return per campaign and channel (活动/渠道投资回报): spend, leads, opportunities, deals won and ROI of each campaign over its whole life; group by channel for ROI per channel';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.campaign_id IS 'Campaign identifier';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.campaign_name IS 'Campaign name (活动名称)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.channel IS 'Main channel of the campaign (渠道); unknown when not set';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.start_month IS 'Month the campaign started (开始月份), first day of the month';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.started_on IS 'First day of the campaign';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.ended_on IS 'Last day of the campaign (NULL while running)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.budget_cny IS 'Planned spend, CNY (预算)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.cost_cny IS 'Actual spend, CNY (实际花费)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.leads IS 'Leads the campaign produced (线索数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.touches IS 'Interactions attributed to the campaign (触达次数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.opportunities IS 'Opportunities attributed to the campaign (商机数): their own campaign, else the campaign of the lead they came from, else the campaign of their account''s earliest lead (first touch)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.deals_won IS 'Of those, won (赢单数)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.won_revenue_cny IS 'Amount of the won opportunities, CNY (赢单金额)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.cost_per_lead_cny IS 'Actual spend over leads, CNY (单条线索成本)';
COMMENT ON COLUMN @extschema@.metrics_return_campaign.roi IS '(won revenue - spend) / spend (投资回报率)';

-- Pools --------------------------------------------------------------------------------

CREATE VIEW @extschema@.pool_summary WITH (security_invoker = true) AS
WITH open_stay AS (
    -- the open stay of every entity of the three reference tables
    SELECT h.entity, h.entity_key, h.stage, h.model, h.entered_at
      FROM @extschema@.stage_history h
     WHERE h.exited_at IS NULL
       AND h.entity OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.account'::regclass, '@extschema@.lead'::regclass,
                                                      '@extschema@.opportunity'::regclass])
), pipeline AS (
    SELECT o.account_id,
           pg_catalog.sum(o.amount) FILTER (WHERE o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[])) AS open_amount
      FROM @extschema@.opportunity o
     GROUP BY o.account_id
), revenue AS (
    SELECT o.account_id, pg_catalog.sum(o.amount) AS amount
      FROM @extschema@."order" o
     WHERE o.ordered_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
     GROUP BY o.account_id
), members AS (
    SELECT 'account'::text AS entity, a.owner, s.model, s.stage, s.entered_at,
           coalesce(p.open_amount, 0) AS pipeline, coalesce(r.amount, 0) AS revenue
      FROM open_stay s
      JOIN @extschema@.account a ON a.account_id OPERATOR(pg_catalog.=) s.entity_key::bigint
      LEFT JOIN pipeline p ON p.account_id OPERATOR(pg_catalog.=) a.account_id
      LEFT JOIN revenue r ON r.account_id OPERATOR(pg_catalog.=) a.account_id
     WHERE s.entity OPERATOR(pg_catalog.=) '@extschema@.account'::regclass
    UNION ALL
    SELECT 'lead', l.owner, s.model, s.stage, s.entered_at, 0, 0
      FROM open_stay s
      JOIN @extschema@.lead l ON l.lead_id OPERATOR(pg_catalog.=) s.entity_key::bigint
     WHERE s.entity OPERATOR(pg_catalog.=) '@extschema@.lead'::regclass
    UNION ALL
    SELECT 'opportunity', o.owner, s.model, s.stage, s.entered_at,
           CASE WHEN o.stage OPERATOR(pg_catalog.<>) ALL (ARRAY['won', 'lost']::text[]) THEN coalesce(o.amount, 0) ELSE 0 END,
           CASE WHEN o.stage OPERATOR(pg_catalog.=) 'won'
                 AND o.closed_at OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) '1 year'::interval)
                THEN coalesce(o.amount, 0) ELSE 0 END
      FROM open_stay s
      JOIN @extschema@.opportunity o ON o.opportunity_id OPERATOR(pg_catalog.=) s.entity_key::bigint
     WHERE s.entity OPERATOR(pg_catalog.=) '@extschema@.opportunity'::regclass
), grouped AS (
    SELECT coalesce(ls.pool, 'exited') AS pool, m.entity, m.owner,
           pg_catalog.count(*) AS members,
           pg_catalog.sum(m.pipeline) AS pipeline,
           pg_catalog.sum(m.revenue) AS revenue,
           pg_catalog.avg(pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) m.entered_at)) AS avg_age_s,
           pg_catalog.max(pg_catalog.now() OPERATOR(pg_catalog.-) m.entered_at) AS max_age,
           pg_catalog.count(*) FILTER (WHERE m.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '30 days'::interval)) AS over_30,
           pg_catalog.count(*) FILTER (WHERE m.entered_at OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) '90 days'::interval)) AS over_90
      FROM members m
      LEFT JOIN @extschema@.lifecycle_stage ls
             ON ls.model OPERATOR(pg_catalog.=) m.model AND ls.stage OPERATOR(pg_catalog.=) m.stage
     GROUP BY 1, 2, 3
)
SELECT g.pool,
       g.entity,
       coalesce(g.owner::text, 'unassigned') AS owner,
       coalesce(team.team, CASE WHEN g.owner IS NULL THEN 'unassigned' ELSE 'no_team' END) AS owner_team,
       g.members,
       g.pipeline AS pipeline_cny,
       g.revenue AS revenue_12m_cny,
       pg_catalog.round((g.avg_age_s OPERATOR(pg_catalog./) 86400)::numeric, 1) AS avg_days_in_stage,
       pg_catalog.round((pg_catalog.date_part('epoch', g.max_age) OPERATOR(pg_catalog./) 86400)::numeric, 1) AS max_days_in_stage,
       g.over_30 AS over_30_days,
       g.over_90 AS over_90_days
  FROM grouped g
  LEFT JOIN LATERAL (
        -- the owner's team: the first role (by name) the owner belongs to
        -- directly, other than the cdp_* roles
        SELECT pg_catalog.min(t.rolname::text) AS team
          FROM pg_catalog.pg_roles r
          JOIN pg_catalog.pg_auth_members am ON am.member OPERATOR(pg_catalog.=) r.oid
          JOIN pg_catalog.pg_roles t ON t.oid OPERATOR(pg_catalog.=) am.roleid
         WHERE r.rolname OPERATOR(pg_catalog.=) g.owner
           AND t.rolname::text OPERATOR(pg_catalog.!~) '^cdp_') team ON true;
COMMENT ON VIEW @extschema@.pool_summary IS 'Pools (客户池): accounts, leads and opportunities now in the marketing, sales and success pools (市场池/销售池/客户成功池) of their lifecycle model, or exited, per owner: how many, the value in play, the owner''s team and how long they have been waiting in their stage';
COMMENT ON COLUMN @extschema@.pool_summary.pool IS 'Pool of the current stage (池): marketing, sales, success, or exited (disqualified, churned, lost)';
COMMENT ON COLUMN @extschema@.pool_summary.entity IS 'What is counted (对象): account, lead or opportunity';
COMMENT ON COLUMN @extschema@.pool_summary.owner IS 'Owner role (负责人), or unassigned';
COMMENT ON COLUMN @extschema@.pool_summary.owner_team IS 'Team of the owner (所属团队): the first role, by name, the owner is a direct member of other than the cdp_* roles; no_team when none, unassigned without owner';
COMMENT ON COLUMN @extschema@.pool_summary.members IS 'Number of entities (数量)';
COMMENT ON COLUMN @extschema@.pool_summary.pipeline_cny IS 'Open opportunity amount: of the accounts'' open opportunities, or of the open opportunities themselves, CNY (在跟商机金额)';
COMMENT ON COLUMN @extschema@.pool_summary.revenue_12m_cny IS 'Order revenue of the accounts in the last 12 months, or amount of opportunities won in the last 12 months, CNY (近12月收入)';
COMMENT ON COLUMN @extschema@.pool_summary.avg_days_in_stage IS 'Average days since entering the current stage (平均停留天数)';
COMMENT ON COLUMN @extschema@.pool_summary.max_days_in_stage IS 'Longest time in the current stage, days (最长停留天数)';
COMMENT ON COLUMN @extschema@.pool_summary.over_30_days IS 'Entities in their stage for more than 30 days (停留超30天)';
COMMENT ON COLUMN @extschema@.pool_summary.over_90_days IS 'Entities in their stage for more than 90 days (停留超90天)';

-- Snapshots ------------------------------------------------------------------------
--
-- The 4R views are exact and always current, but they aggregate the whole
-- touchpoint table: on 10M touchpoints that takes several seconds, too slow
-- for a dashboard.  Each has a materialized snapshot with the same columns
-- plus refreshed_at, keyed by its month/segment(/channel) so that
-- cdp.refresh_bi_snapshots() refreshes it CONCURRENTLY (readers are never
-- blocked).  Dashboards read the snapshots; refresh them on a schedule
-- (pg_cron, or cron running psql).  They are created populated, so a BI tool
-- can read them before the first refresh.

CREATE MATERIALIZED VIEW @extschema@.metrics_recognize_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_recognize v;
CREATE UNIQUE INDEX metrics_recognize_snapshot_key ON @extschema@.metrics_recognize_snapshot (month, segment);
CREATE MATERIALIZED VIEW @extschema@.metrics_reach_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_reach v;
CREATE UNIQUE INDEX metrics_reach_snapshot_key ON @extschema@.metrics_reach_snapshot (month, segment, channel);
CREATE MATERIALIZED VIEW @extschema@.metrics_relationship_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_relationship v;
CREATE UNIQUE INDEX metrics_relationship_snapshot_key ON @extschema@.metrics_relationship_snapshot (month, segment);
CREATE MATERIALIZED VIEW @extschema@.metrics_return_snapshot AS
SELECT v.*, pg_catalog.now() AS refreshed_at FROM @extschema@.metrics_return v;
CREATE UNIQUE INDEX metrics_return_snapshot_key ON @extschema@.metrics_return_snapshot (month, segment);

-- the snapshots describe themselves with their views' comments
DO $$
DECLARE
    v text;
    c record;
BEGIN
    FOREACH v IN ARRAY ARRAY['metrics_recognize', 'metrics_reach', 'metrics_relationship', 'metrics_return'] LOOP
        EXECUTE pg_catalog.format('COMMENT ON MATERIALIZED VIEW @extschema@.%I IS %L', v || '_snapshot',
            'Snapshot (快照) of cdp.' || v || ' as of refreshed_at, for dashboards; refreshed by cdp.refresh_bi_snapshots(). '
            || pg_catalog.obj_description(pg_catalog.format('@extschema@.%I', v)::pg_catalog.regclass, 'pg_class'));
        FOR c IN SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS d
                   FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid OPERATOR(pg_catalog.=) pg_catalog.format('@extschema@.%I', v)::pg_catalog.regclass
                    AND a.attnum OPERATOR(pg_catalog.>) 0 LOOP
            EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', v || '_snapshot', c.attname, c.d);
        END LOOP;
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.refreshed_at IS %L', v || '_snapshot',
                                  'When the snapshot was last refreshed (快照时间)');
    END LOOP;
END
$$;

-- VOLATILE: refreshes materialized views.  SECURITY DEFINER: refreshing
-- needs the snapshots' owner; EXECUTE is revoked from PUBLIC, grant it to
-- the role that schedules refreshes.  The snapshots hold aggregates only.
CREATE FUNCTION @extschema@.refresh_bi_snapshots() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_recognize_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_reach_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_relationship_snapshot;
    REFRESH MATERIALIZED VIEW CONCURRENTLY @extschema@.metrics_return_snapshot;
    RETURN pg_catalog.now();
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_bi_snapshots() IS 'Refreshes the 4R snapshots (metrics_*_snapshot) concurrently, so dashboards read fast figures without blocking; returns the refresh time. Schedule it, e.g. with pg_cron every 15 minutes';
REVOKE ALL ON FUNCTION @extschema@.refresh_bi_snapshots() FROM PUBLIC;

-- ==== src/governance.sql ====

-- governance.sql: consent, outreach cadence, erasure, validation, roles,
-- privileges and row-level security.
--
-- This piece is loaded last (MODULES_ORDER), so the privilege and policy
-- set-up at its end covers every table, view and function the other modules
-- created, including the ones that land after it was written.
--
-- Personal data is marked in the catalog: every column whose COMMENT
-- contains "(personal data)" holds it.  forget_contact erases those columns,
-- analysts get no privilege on them, and the masked views show them masked.
-- A module that adds a personal column says so in its comment and is
-- covered.

-- Validation and masking (C) ---------------------------------------------------

CREATE FUNCTION @extschema@.validate_email(email text,
    OUT valid boolean, OUT normalized text, OUT problem text)
    AS 'MODULE_PATHNAME', 'cdp_validate_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.validate_email(text) IS 'Checks an e-mail address (校验邮箱): valid, the normalized form (domain in lower case) and the problem (empty, missing_at, syntax, local_part, domain, too_long, unsupported_quoted, unsupported_address_literal, fake, disposable); placeholders such as test@test.com are fake';

CREATE FUNCTION @extschema@.validate_phone(phone text, region text DEFAULT 'CN',
    OUT valid boolean, OUT normalized text, OUT kind text, OUT problem text)
    AS 'MODULE_PATHNAME', 'cdp_validate_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.validate_phone(text, text) IS 'Checks a phone number (校验电话) for a region (national formats known for CN: mobile 1[3-9]x, landline 0 + area code + 7/8 digits, 400/800 service numbers; E.164 anywhere): valid, E.164 form, kind (mobile, landline, service, international) and the problem (empty, syntax, length, mobile_prefix, landline_format, missing_area_code, e164_format, needs_country_code, too_long, fake); 13800138000 and 12345678901 are fake';

CREATE FUNCTION @extschema@.mask_name(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_name'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_name(text) IS 'Masks a person''s name (脱敏): first character of each word kept, the rest stars (张伟 -> 张*)';

CREATE FUNCTION @extschema@.mask_email(email text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_email(text) IS 'Masks an e-mail address, keeping the first character and the company domain (zhang.wei@huaxin.cn -> z***@huaxin.cn)';

CREATE FUNCTION @extschema@.mask_phone(phone text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_mask_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.mask_phone(text) IS 'Masks a phone number, keeping the first three and last two digits (13812345678 -> 138******78)';

-- Consent: an append-only log ---------------------------------------------------

-- The log proves what a person decided and when; rows are never changed or
-- deleted, a new decision is a new row.  The only exception is
-- cdp.forget_contact, which clears the free-text source of the person's
-- decisions: it runs as the extension owner, and the trigger lets only the
-- owner of cdp.consent through, and only from inside forget_contact.
-- VOLATILE: a trigger.
CREATE FUNCTION @extschema@.consent_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stack text;
BEGIN
    GET DIAGNOSTICS stack = PG_CONTEXT;
    IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE'
       AND CURRENT_USER OPERATOR(pg_catalog.=) (SELECT c.relowner::pg_catalog.regrole::pg_catalog.name
                                                 FROM pg_catalog.pg_class c
                                                WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID)
       AND pg_catalog.strpos(stack, 'function @extschema@.forget_contact(bigint)') OPERATOR(pg_catalog.>) 0
       AND OLD.consent_id OPERATOR(pg_catalog.=) NEW.consent_id
       AND OLD.contact_id OPERATOR(pg_catalog.=) NEW.contact_id
       AND OLD.channel OPERATOR(pg_catalog.=) NEW.channel
       AND OLD.granted OPERATOR(pg_catalog.=) NEW.granted
       AND OLD.recorded_at OPERATOR(pg_catalog.=) NEW.recorded_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'cdp.consent is append-only'
        USING ERRCODE = '42501',
              DETAIL = pg_catalog.format('%s of consent records is not allowed.', TG_OP),
              HINT = 'Record a new decision with INSERT; the latest decision per channel wins. Erase a person with cdp.forget_contact.';
END
$$;
COMMENT ON FUNCTION @extschema@.consent_append_only() IS 'Trigger keeping cdp.consent append-only: UPDATE, DELETE and TRUNCATE are refused (SQLSTATE 42501) except the clearing of free text by cdp.forget_contact';

CREATE TRIGGER consent_append_only
    BEFORE UPDATE OR DELETE ON @extschema@.consent
    FOR EACH ROW EXECUTE FUNCTION @extschema@.consent_append_only();
CREATE TRIGGER consent_no_truncate
    BEFORE TRUNCATE ON @extschema@.consent
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.consent_append_only();

-- Erasure log -------------------------------------------------------------------

CREATE TABLE @extschema@.erasure_log (
    erasure_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id bigint NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    erased_by name NOT NULL DEFAULT SESSION_USER,
    rows_changed jsonb NOT NULL
);
COMMENT ON TABLE @extschema@.erasure_log IS 'Erasure log (删除记录): that a person''s data was erased, when and by whom, with the number of rows changed per table; it holds no personal data';
COMMENT ON COLUMN @extschema@.erasure_log.erasure_id IS 'Erasure identifier';
COMMENT ON COLUMN @extschema@.erasure_log.contact_id IS 'Contact whose personal data was erased (the contact row stays, anonymous)';
COMMENT ON COLUMN @extschema@.erasure_log.erased_at IS 'When the erasure ran';
COMMENT ON COLUMN @extschema@.erasure_log.erased_by IS 'Session role that asked for the erasure';
COMMENT ON COLUMN @extschema@.erasure_log.rows_changed IS 'Rows changed or removed per table, e.g. {"cdp.lead": 2, "cdp.touchpoint": 5}';
CREATE INDEX erasure_log_contact_idx ON @extschema@.erasure_log (contact_id);

-- Outreach cadence ------------------------------------------------------------------

CREATE TABLE @extschema@.outreach_model (
    model text PRIMARY KEY CHECK (model ~ '^[a-z][a-z0-9_]{0,62}$'),
    channels text[] NOT NULL DEFAULT '{phone,email,wechat,sms}'
        CHECK (pg_catalog.cardinality(channels) > 0 AND channels <@ '{phone,email,wechat,sms}'),
    retry_after interval NOT NULL DEFAULT '2 days' CHECK (retry_after >= '0'),
    busy_retry_after interval NOT NULL DEFAULT '2 hours' CHECK (busy_retry_after >= '0'),
    max_unanswered integer NOT NULL DEFAULT 3 CHECK (max_unanswered > 0),
    backoff interval NOT NULL DEFAULT '14 days' CHECK (backoff >= '0'),
    give_up_after integer NOT NULL DEFAULT 8 CHECK (give_up_after > 0),
    follow_up_after interval NOT NULL DEFAULT '7 days' CHECK (follow_up_after >= '0'),
    builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.outreach_model IS 'Outreach cadences (触达节奏) used by cdp.next_touch: channel order and the limits on unanswered attempts';
COMMENT ON COLUMN @extschema@.outreach_model.model IS 'Cadence name (lower case identifier); default is used when none is given';
COMMENT ON COLUMN @extschema@.outreach_model.channels IS 'Channels to use, in order of preference (phone, email, wechat, sms)';
COMMENT ON COLUMN @extschema@.outreach_model.retry_after IS 'Wait after an unanswered attempt (no_answer, no_reply) before the next one';
COMMENT ON COLUMN @extschema@.outreach_model.busy_retry_after IS 'Wait after a busy line before calling again';
COMMENT ON COLUMN @extschema@.outreach_model.max_unanswered IS 'Unanswered attempts on one channel in a row after which that channel backs off';
COMMENT ON COLUMN @extschema@.outreach_model.backoff IS 'How long a channel rests after max_unanswered unanswered attempts';
COMMENT ON COLUMN @extschema@.outreach_model.give_up_after IS 'Unanswered attempts in a row, all channels together, after which the contact is not tried again until they reach us';
COMMENT ON COLUMN @extschema@.outreach_model.follow_up_after IS 'Wait after a conversation (connected, replied, meeting) before the next touch';
COMMENT ON COLUMN @extschema@.outreach_model.builtin IS 'true for the cadence shipped with cdp; pg_dump keeps only the others';
INSERT INTO @extschema@.outreach_model (model, builtin) VALUES ('default', true);

CREATE TABLE @extschema@.bad_contact_point (
    contact_id bigint NOT NULL REFERENCES @extschema@.contact,
    channel text NOT NULL CHECK (channel IN ('email', 'phone', 'wechat')),
    value text NOT NULL,
    reason text NOT NULL,
    marked_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (contact_id, channel, value)
);
COMMENT ON TABLE @extschema@.bad_contact_point IS 'Contact points known not to work (无效联系方式): bounced e-mail addresses and wrong numbers, marked from touchpoint outcomes; a changed address or number is usable again';
COMMENT ON COLUMN @extschema@.bad_contact_point.contact_id IS 'Contact the point belongs to';
COMMENT ON COLUMN @extschema@.bad_contact_point.channel IS 'email, phone (also used for sms) or wechat';
COMMENT ON COLUMN @extschema@.bad_contact_point.value IS 'The address or number that failed (personal data)';
COMMENT ON COLUMN @extschema@.bad_contact_point.reason IS 'Outcome that marked it (bounced, wrong_number, invalid_number)';
COMMENT ON COLUMN @extschema@.bad_contact_point.marked_at IS 'When it was marked';

-- SECURITY DEFINER: a rep who records a bounced e-mail marks the address bad
-- without needing write access to cdp.bad_contact_point.
CREATE FUNCTION @extschema@.touchpoint_marks_bad_point() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c @extschema@.contact;
    ch text;
    v text;
BEGIN
    IF NEW.contact_id IS NULL
       OR NEW.outcome IS NULL
       OR NEW.outcome OPERATOR(pg_catalog.<>) ALL ('{bounced,wrong_number,invalid_number}'::text[]) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct WHERE ct.contact_id OPERATOR(pg_catalog.=) NEW.contact_id;
    IF NEW.outcome OPERATOR(pg_catalog.=) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) 'email' THEN
        ch := 'email'; v := c.email;
    ELSIF NEW.outcome OPERATOR(pg_catalog.<>) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) ANY ('{phone,sms}'::text[]) THEN
        ch := 'phone'; v := c.phone;
    ELSIF NEW.outcome OPERATOR(pg_catalog.<>) 'bounced' AND NEW.channel OPERATOR(pg_catalog.=) 'wechat' THEN
        ch := 'wechat'; v := c.wechat;
    END IF;
    IF v IS NOT NULL THEN
        INSERT INTO @extschema@.bad_contact_point (contact_id, channel, value, reason, marked_at)
        VALUES (NEW.contact_id, ch, v, NEW.outcome, NEW.occurred_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.touchpoint_marks_bad_point() IS 'Trigger on cdp.touchpoint: a bounced e-mail or a wrong/invalid number marks the contact''s current address or number bad';

CREATE TRIGGER touchpoint_marks_bad_point
    AFTER INSERT OR UPDATE OF outcome ON @extschema@.touchpoint
    FOR EACH ROW EXECUTE FUNCTION @extschema@.touchpoint_marks_bad_point();

-- Consent decisions -------------------------------------------------------------------

-- STABLE: reads tables.
CREATE FUNCTION @extschema@.can_contact(contact_id bigint, channel text)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT c.granted FROM @extschema@.consent c
                      WHERE c.contact_id OPERATOR(pg_catalog.=) $1
                        AND c.channel OPERATOR(pg_catalog.=) pg_catalog.lower($2)
                      ORDER BY c.recorded_at DESC, c.consent_id DESC
                      LIMIT 1), false)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.erasure_log e
                        WHERE e.contact_id OPERATOR(pg_catalog.=) $1)
$$;
COMMENT ON FUNCTION @extschema@.can_contact(bigint, text) IS 'Whether a contact may be reached on a channel (可联系): the latest consent decision for the channel wins, no record means no, an erased person never';

CREATE VIEW @extschema@.consent_status WITH (security_invoker = true) AS
SELECT DISTINCT ON (c.contact_id, c.channel)
       c.contact_id, c.channel, c.granted, c.legal_basis, c.recorded_at
  FROM @extschema@.consent c
 ORDER BY c.contact_id, c.channel, c.recorded_at DESC, c.consent_id DESC;
COMMENT ON VIEW @extschema@.consent_status IS 'Current consent (当前授权状态) per contact and channel: the latest decision of each';
COMMENT ON COLUMN @extschema@.consent_status.contact_id IS 'Contact';
COMMENT ON COLUMN @extschema@.consent_status.channel IS 'Channel';
COMMENT ON COLUMN @extschema@.consent_status.granted IS 'true when the latest decision grants contact';
COMMENT ON COLUMN @extschema@.consent_status.legal_basis IS 'Legal basis of the latest decision';
COMMENT ON COLUMN @extschema@.consent_status.recorded_at IS 'When the latest decision was made';

-- STABLE: reads tables; as_of defaults to now().
CREATE FUNCTION @extschema@.next_touch(contact_id bigint, as_of timestamptz DEFAULT pg_catalog.now(),
                                       model text DEFAULT 'default',
                                       OUT channel text, OUT touch_at timestamptz, OUT reason text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m @extschema@.outreach_model;
    c @extschema@.contact;
    ch text;
    point text;
    point_channel text;
    last_success timestamptz;
    last_any timestamptz;
    streak integer;
    ch_streak integer;
    ch_last timestamptz;
    ch_last_outcome text;
    candidate timestamptz;
    why text;
    blocked text[] := '{}';
BEGIN
    IF contact_id IS NULL OR as_of IS NULL OR model IS NULL THEN
        RAISE EXCEPTION 'next_touch arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO m FROM @extschema@.outreach_model om WHERE om.model OPERATOR(pg_catalog.=) next_touch.model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown outreach model "%"', model
            USING ERRCODE = '22023',
                  HINT = 'Outreach models are listed in cdp.outreach_model.';
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct WHERE ct.contact_id OPERATOR(pg_catalog.=) next_touch.contact_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contact with id %', contact_id USING ERRCODE = 'P0002';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.erasure_log e WHERE e.contact_id OPERATOR(pg_catalog.=) c.contact_id) THEN
        reason := 'erased';
        RETURN;
    END IF;

    -- the latest conversation: an inbound touch or a successful outbound one
    SELECT pg_catalog.max(t.occurred_at) INTO last_success
      FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
       AND (t.direction OPERATOR(pg_catalog.=) 'inbound'
            OR t.outcome OPERATOR(pg_catalog.=) ANY ('{connected,replied,meeting,answered}'::text[]));

    -- unanswered outbound attempts since then, over all channels
    SELECT pg_catalog.count(*), pg_catalog.max(t.occurred_at) INTO streak, last_any
      FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.direction OPERATOR(pg_catalog.=) 'outbound'
       AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
       AND (last_success IS NULL OR t.occurred_at OPERATOR(pg_catalog.>) last_success);
    IF streak OPERATOR(pg_catalog.>=) m.give_up_after THEN
        reason := pg_catalog.format('gave up after %s unanswered attempts', streak);
        RETURN;
    END IF;

    FOREACH ch IN ARRAY m.channels LOOP
        point_channel := CASE ch WHEN 'sms' THEN 'phone' ELSE ch END;
        point := CASE point_channel WHEN 'phone' THEN c.phone WHEN 'email' THEN c.email
                                    WHEN 'wechat' THEN c.wechat END;
        IF NOT @extschema@.can_contact(c.contact_id, ch) THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': no consent');
            CONTINUE;
        END IF;
        IF point IS NULL OR pg_catalog.btrim(point) OPERATOR(pg_catalog.=) '' THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': no ' OPERATOR(pg_catalog.||) point_channel);
            CONTINUE;
        END IF;
        IF EXISTS (SELECT 1 FROM @extschema@.bad_contact_point b
                    WHERE b.contact_id OPERATOR(pg_catalog.=) c.contact_id
                      AND b.channel OPERATOR(pg_catalog.=) point_channel
                      AND b.value OPERATOR(pg_catalog.=) point) THEN
            blocked := blocked OPERATOR(pg_catalog.||) (ch OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) point_channel OPERATOR(pg_catalog.||) ' marked bad');
            CONTINUE;
        END IF;

        -- this channel's unanswered streak and its latest attempt
        SELECT pg_catalog.count(*), pg_catalog.max(t.occurred_at) INTO ch_streak, ch_last
          FROM @extschema@.touchpoint t
         WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
           AND t.direction OPERATOR(pg_catalog.=) 'outbound'
           AND t.channel OPERATOR(pg_catalog.=) ch
           AND t.occurred_at OPERATOR(pg_catalog.<=) as_of
           AND (last_success IS NULL OR t.occurred_at OPERATOR(pg_catalog.>) last_success);
        ch_last_outcome := NULL;
        IF ch_last IS NOT NULL THEN
            SELECT t.outcome INTO ch_last_outcome
              FROM @extschema@.touchpoint t
             WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
               AND t.channel OPERATOR(pg_catalog.=) ch
               AND t.occurred_at OPERATOR(pg_catalog.=) ch_last
             ORDER BY t.touchpoint_id DESC LIMIT 1;
        END IF;

        IF ch_streak OPERATOR(pg_catalog.>=) m.max_unanswered THEN
            candidate := ch_last OPERATOR(pg_catalog.+) m.backoff;
            why := pg_catalog.format('%s unanswered %s attempts: backing off', ch_streak, ch);
        ELSIF last_any IS NOT NULL THEN
            -- spacing counts from the latest attempt on any channel; a busy
            -- line on this channel may be retried sooner
            IF ch_last_outcome OPERATOR(pg_catalog.=) 'busy' AND ch_last OPERATOR(pg_catalog.=) last_any THEN
                candidate := last_any OPERATOR(pg_catalog.+) m.busy_retry_after;
                why := 'line was busy';
            ELSE
                candidate := last_any OPERATOR(pg_catalog.+) m.retry_after;
                why := pg_catalog.format('%s unanswered attempts so far', streak);
            END IF;
        ELSIF last_success IS NOT NULL THEN
            candidate := last_success OPERATOR(pg_catalog.+) m.follow_up_after;
            why := 'follow-up after the last conversation';
        ELSE
            candidate := as_of;
            why := 'first attempt';
        END IF;
        candidate := GREATEST(candidate, as_of);
        IF touch_at IS NULL OR candidate OPERATOR(pg_catalog.<) touch_at THEN
            channel := ch;
            touch_at := candidate;
            reason := why;
        END IF;
    END LOOP;

    IF channel IS NULL THEN
        reason := 'no usable channel (' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(blocked, '; ') OPERATOR(pg_catalog.||) ')';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.next_touch(bigint, timestamptz, text) IS 'When and on which channel to try a contact next (下次触达), from its attempts and their outcomes, consent and bad contact points, under the limits of an outreach model; channel NULL with the reason when nobody should call';

-- SECURITY DEFINER: none.  The queue runs with the caller's rights, so row-
-- level security limits a rep to the contacts they own.
CREATE VIEW @extschema@.outreach_queue WITH (security_invoker = true) AS
SELECT c.contact_id, c.account_id, c.owner, n.channel, n.touch_at, n.reason
  FROM @extschema@.contact c
 CROSS JOIN LATERAL @extschema@.next_touch(c.contact_id) n
 WHERE n.channel IS NOT NULL;
COMMENT ON VIEW @extschema@.outreach_queue IS 'Who to contact and when (待触达名单): every contact with consent and a working contact point, with the channel and time cdp.next_touch picks';
COMMENT ON COLUMN @extschema@.outreach_queue.contact_id IS 'Contact';
COMMENT ON COLUMN @extschema@.outreach_queue.account_id IS 'Account of the contact';
COMMENT ON COLUMN @extschema@.outreach_queue.owner IS 'Rep who owns the contact';
COMMENT ON COLUMN @extschema@.outreach_queue.channel IS 'Channel to use next';
COMMENT ON COLUMN @extschema@.outreach_queue.touch_at IS 'Earliest time for the next touch (now or later)';
COMMENT ON COLUMN @extschema@.outreach_queue.reason IS 'Why this channel and time';

-- Erasure ------------------------------------------------------------------------------

-- Personal-data columns as the catalog marks them (comment contains
-- "(personal data)"), for erasure, analyst privileges and review.
CREATE VIEW @extschema@.personal_data_column AS
SELECT c.oid::pg_catalog.regclass AS tbl, a.attname AS column_name
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
 WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
   AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
   AND pg_catalog.col_description(c.oid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%';
COMMENT ON VIEW @extschema@.personal_data_column IS 'Columns of cdp tables that hold personal data (个人信息字段), as marked by "(personal data)" in their comments: erased by forget_contact, hidden from analysts';
COMMENT ON COLUMN @extschema@.personal_data_column.tbl IS 'Table';
COMMENT ON COLUMN @extschema@.personal_data_column.column_name IS 'Column holding personal data';

-- SECURITY DEFINER: an erasure must reach every row of every table, whoever
-- owns them and whatever row-level security would show the caller; EXECUTE
-- is granted to cdp_admin only.
CREATE FUNCTION @extschema@.forget_contact(contact_id bigint)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c @extschema@.contact;
    ids text[];
    email_l text;
    phone_e164 text;
    lead_ids bigint[];
    n bigint;
    total bigint := 0;
    counts jsonb := '{}';
    tb record;
    sets text;
    conds text;
    idents text[];
    ident text;
    col record;
    previous bigint;
    pname text;
    now_ts timestamptz := pg_catalog.now();

BEGIN
    IF contact_id IS NULL THEN
        RAISE EXCEPTION 'forget_contact argument must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO c FROM @extschema@.contact ct
     WHERE ct.contact_id OPERATOR(pg_catalog.=) forget_contact.contact_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contact with id %', contact_id USING ERRCODE = 'P0002';
    END IF;

    email_l := pg_catalog.lower(pg_catalog.btrim(c.email));
    phone_e164 := (@extschema@.validate_phone(c.phone)).normalized;

    -- the person's leads: linked, or carrying the same address or number
    SELECT pg_catalog.array_agg(l.lead_id) INTO lead_ids
      FROM @extschema@.lead l
     WHERE l.contact_id OPERATOR(pg_catalog.=) c.contact_id
        OR (email_l OPERATOR(pg_catalog.<>) '' AND pg_catalog.lower(pg_catalog.btrim(l.email)) OPERATOR(pg_catalog.=) email_l)
        OR (pg_catalog.btrim(l.phone) OPERATOR(pg_catalog.=) pg_catalog.btrim(c.phone))
        OR (phone_e164 IS NOT NULL AND l.phone IS NOT NULL
            AND (@extschema@.validate_phone(l.phone)).normalized OPERATOR(pg_catalog.=) phone_e164);
    lead_ids := coalesce(lead_ids, '{}');

    UPDATE @extschema@.lead l
       SET contact_name = NULL, email = NULL, phone = NULL, title = NULL
     WHERE l.lead_id OPERATOR(pg_catalog.=) ANY (lead_ids)
       AND (l.contact_name IS NOT NULL OR l.email IS NOT NULL OR l.phone IS NOT NULL OR l.title IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.lead', n); END IF;

    -- reasons given for the person's stage moves may name them
    UPDATE @extschema@.stage_history h
       SET reason = NULL
     WHERE h.reason IS NOT NULL
       AND ((h.entity OPERATOR(pg_catalog.=) '@extschema@.lead'::pg_catalog.regclass
             AND h.entity_key OPERATOR(pg_catalog.=) ANY (lead_ids::text[]))
         OR (h.entity OPERATOR(pg_catalog.=) '@extschema@.contact'::pg_catalog.regclass
             AND h.entity_key OPERATOR(pg_catalog.=) c.contact_id::text));
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.stage_history', n); END IF;

    -- interactions stay for the account's and the campaign's figures, but
    -- no longer point at the person; those tied to nothing else go
    DELETE FROM @extschema@.touchpoint t
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND t.lead_id IS NULL AND t.account_id IS NULL AND c.account_id IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE @extschema@.touchpoint t
       SET contact_id = NULL, account_id = coalesce(t.account_id, c.account_id)
     WHERE t.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS total = ROW_COUNT;
    n := n OPERATOR(pg_catalog.+) total;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.touchpoint', n); END IF;

    -- whom the person knows is personal data
    DELETE FROM @extschema@.relationship r
     WHERE r.from_contact OPERATOR(pg_catalog.=) c.contact_id OR r.to_contact OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.relationship', n); END IF;

    DELETE FROM @extschema@.bad_contact_point b WHERE b.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.bad_contact_point', n); END IF;

    -- consent decisions stay as proof, without free text
    UPDATE @extschema@.consent k SET source = NULL
     WHERE k.contact_id OPERATOR(pg_catalog.=) c.contact_id AND k.source IS NOT NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.consent', n); END IF;

    UPDATE @extschema@.contact ct
       SET name = NULL, email = NULL, phone = NULL, wechat = NULL, title = NULL,
           department = NULL, reports_to = NULL, verified = false, updated_at = now_ts
     WHERE ct.contact_id OPERATOR(pg_catalog.=) c.contact_id
       AND (ct.name IS NOT NULL OR ct.email IS NOT NULL OR ct.phone IS NOT NULL OR ct.wechat IS NOT NULL
            OR ct.title IS NOT NULL OR ct.department IS NOT NULL OR ct.reports_to IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.>) 0 THEN counts := counts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('cdp.contact', n); END IF;

    -- Everywhere else, including tables of modules this function does not
    -- know: a personal-data column equal to one of the person's identifiers
    -- is cleared, and any other text or jsonb column has the identifiers
    -- cut out (the name only in rows of the person's account, since a
    -- two-character name is too common to cut everywhere).
    idents := pg_catalog.array_remove(ARRAY[pg_catalog.btrim(c.email), pg_catalog.btrim(c.phone),
                                            phone_e164, pg_catalog.btrim(c.wechat)], NULL);
    SELECT pg_catalog.array_agg(x) INTO idents FROM pg_catalog.unnest(idents) x
     WHERE pg_catalog.length(x) OPERATOR(pg_catalog.>=) 5;
    idents := coalesce(idents, '{}');
    pname := CASE WHEN pg_catalog.length(pg_catalog.btrim(c.name)) OPERATOR(pg_catalog.>=) 2 THEN pg_catalog.btrim(c.name) END;
    FOR tb IN
        SELECT cl.oid::pg_catalog.regclass AS tbl,
               EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) cl.oid AND a.attname OPERATOR(pg_catalog.=) 'account_id'
                          AND NOT a.attisdropped) AS has_account
          FROM pg_catalog.pg_class cl
         WHERE cl.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND cl.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[])
           AND NOT cl.relispartition
           AND cl.oid OPERATOR(pg_catalog.<>) ALL (ARRAY['@extschema@.erasure_log'::pg_catalog.regclass,
                                                         '@extschema@.consent'::pg_catalog.regclass]::pg_catalog.oid[])
         ORDER BY cl.oid
    LOOP
        sets := NULL;
        conds := NULL;
        FOR col IN
            SELECT a.attname, a.atttypid,
                   pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%' AS personal
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid OPERATOR(pg_catalog.=) tb.tbl AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
               AND a.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY['text'::pg_catalog.regtype, 'varchar'::pg_catalog.regtype,
                                                                'jsonb'::pg_catalog.regtype]::pg_catalog.oid[])
               AND a.attgenerated OPERATOR(pg_catalog.=) ''
             ORDER BY a.attnum
        LOOP
            IF col.personal AND col.atttypid OPERATOR(pg_catalog.<>) 'jsonb'::pg_catalog.regtype THEN
                -- exact match of an identifier (e-mail case-insensitively), or the name in the person's account
                sets := concat_ws(', ', sets, pg_catalog.format(
                    '%1$I = CASE WHEN pg_catalog.lower(pg_catalog.btrim(%1$I)) OPERATOR(pg_catalog.=) ANY ($1) %2$s THEN NULL ELSE %1$I END',
                    col.attname,
                    CASE WHEN tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL
                         THEN 'OR (account_id OPERATOR(pg_catalog.=) $3 AND pg_catalog.btrim(' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(col.attname) OPERATOR(pg_catalog.||) ') OPERATOR(pg_catalog.=) $2)'
                         ELSE '' END));
                conds := concat_ws(' OR ', conds, pg_catalog.format(
                    'pg_catalog.lower(pg_catalog.btrim(%1$I)) OPERATOR(pg_catalog.=) ANY ($1)%2$s', col.attname,
                    CASE WHEN tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL
                         THEN ' OR (account_id OPERATOR(pg_catalog.=) $3 AND pg_catalog.btrim(' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(col.attname) OPERATOR(pg_catalog.||) ') OPERATOR(pg_catalog.=) $2)'
                         ELSE '' END));
            ELSIF pg_catalog.cardinality(idents) OPERATOR(pg_catalog.>) 0 OR (tb.has_account AND c.account_id IS NOT NULL AND pname IS NOT NULL) THEN
                -- free text: cut the identifiers out
                IF col.atttypid OPERATOR(pg_catalog.=) 'jsonb'::pg_catalog.regtype THEN
                    sets := concat_ws(', ', sets, pg_catalog.format(
                        '%1$I = @extschema@.erase_identifiers(%1$I::pg_catalog.text, $4, CASE WHEN %2$s THEN $2 END)::pg_catalog.jsonb',
                        col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
                ELSE
                    sets := concat_ws(', ', sets, pg_catalog.format(
                        '%1$I = @extschema@.erase_identifiers(%1$I, $4, CASE WHEN %2$s THEN $2 END)',
                        col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
                END IF;
                conds := concat_ws(' OR ', conds, pg_catalog.format(
                    '%1$I::pg_catalog.text OPERATOR(pg_catalog.~~) ANY ($5) OR (%2$s AND pg_catalog.strpos(%1$I::pg_catalog.text, $2) OPERATOR(pg_catalog.>) 0)',
                    col.attname, CASE WHEN tb.has_account AND c.account_id IS NOT NULL THEN 'account_id OPERATOR(pg_catalog.=) $3' ELSE 'false' END));
            END IF;
        END LOOP;
        IF sets IS NOT NULL THEN
            EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %s', tb.tbl, sets, conds)
              USING (SELECT coalesce(pg_catalog.array_agg(pg_catalog.lower(x)), '{}') FROM pg_catalog.unnest(idents) x),
                    pname, c.account_id, idents,
                    (SELECT coalesce(pg_catalog.array_agg('%' OPERATOR(pg_catalog.||)
                                     pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(x, '\', '\\'), '%', '\%'), '_', '\_')
                                     OPERATOR(pg_catalog.||) '%'), '{}')
                       FROM pg_catalog.unnest(idents) x);
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n OPERATOR(pg_catalog.>) 0 THEN
                counts := counts OPERATOR(pg_catalog.||)
                          pg_catalog.jsonb_build_object(tb.tbl::pg_catalog.text,
                              coalesce((counts OPERATOR(pg_catalog.->>) tb.tbl::pg_catalog.text)::bigint, 0) OPERATOR(pg_catalog.+) n);
            END IF;
        END IF;
    END LOOP;

    -- once is enough in the log: a repeated call that changed nothing
    -- returns the first erasure
    SELECT pg_catalog.min(e.erasure_id) INTO previous
      FROM @extschema@.erasure_log e WHERE e.contact_id OPERATOR(pg_catalog.=) c.contact_id;
    IF previous IS NOT NULL AND counts OPERATOR(pg_catalog.=) '{}'::jsonb THEN
        RETURN previous;
    END IF;

    -- no more messages on any channel the person had granted
    INSERT INTO @extschema@.consent (contact_id, channel, granted, legal_basis, source, recorded_at)
    SELECT s.contact_id, s.channel, false, 'erasure', NULL, GREATEST(now_ts, s.recorded_at)
      FROM (SELECT DISTINCT ON (k.channel) k.contact_id, k.channel, k.granted, k.recorded_at
              FROM @extschema@.consent k
             WHERE k.contact_id OPERATOR(pg_catalog.=) c.contact_id
             ORDER BY k.channel, k.recorded_at DESC, k.consent_id DESC) s
     WHERE s.granted;

    INSERT INTO @extschema@.erasure_log (contact_id, erased_at, rows_changed)
    VALUES (c.contact_id, now_ts, counts)
    RETURNING erasure_id INTO previous;
    RETURN previous;
END
$$;
COMMENT ON FUNCTION @extschema@.forget_contact(bigint) IS 'Erases a person''s personal data (被遗忘权) from every cdp table: the contact row is kept anonymous, the person''s leads lose their contact fields, touchpoints are unlinked, relationships removed, stage-history reasons cleared, identifiers cut out of free text anywhere; consent is withdrawn and the erasure logged in cdp.erasure_log (without the data). Idempotent; returns the erasure id';

-- Cuts identifiers out of free text: each of idents (compared as typed) and
-- the name when given become [erased].
CREATE FUNCTION @extschema@.erase_identifiers(value text, idents text[], person_name text DEFAULT NULL)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN value IS NULL THEN NULL ELSE
           (WITH RECURSIVE r(i, v) AS (
                SELECT 0, CASE WHEN person_name IS NOT NULL AND pg_catalog.length(person_name) >= 2
                               THEN pg_catalog.replace(value, person_name, '[erased]') ELSE value END
                UNION ALL
                SELECT r.i + 1, pg_catalog.replace(r.v, idents[r.i + 1], '[erased]')
                  FROM r WHERE r.i < coalesce(pg_catalog.cardinality(idents), 0))
            SELECT r.v FROM r ORDER BY r.i DESC LIMIT 1) END;
END;
COMMENT ON FUNCTION @extschema@.erase_identifiers(text, text[], text) IS 'Replaces each identifier (and the person''s name, when given) in a text with [erased]; used by cdp.forget_contact on free-text columns';

-- Masked views for analysts ----------------------------------------------------------------

-- Owner's rights (no security_invoker): analysts have no privilege on the
-- personal columns and read them here, masked, for every row.
CREATE VIEW @extschema@.contact_masked AS
SELECT c.contact_id, c.account_id,
       @extschema@.mask_name(c.name) AS name,
       c.title, c.department,
       @extschema@.mask_email(c.email) AS email,
       @extschema@.mask_phone(c.phone) AS phone,
       (c.wechat IS NOT NULL) AS has_wechat,
       c.decision_role, c.reports_to, c.approval_limit, c.verified, c.owner, c.created_at, c.updated_at
  FROM @extschema@.contact c;
COMMENT ON VIEW @extschema@.contact_masked IS 'Contacts with personal data masked (脱敏联系人), for analysts';
COMMENT ON COLUMN @extschema@.contact_masked.contact_id IS 'Contact identifier';
COMMENT ON COLUMN @extschema@.contact_masked.account_id IS 'Account the person works for';
COMMENT ON COLUMN @extschema@.contact_masked.name IS 'Name, masked (张*)';
COMMENT ON COLUMN @extschema@.contact_masked.title IS 'Job title';
COMMENT ON COLUMN @extschema@.contact_masked.department IS 'Department';
COMMENT ON COLUMN @extschema@.contact_masked.email IS 'E-mail, masked to first character and domain';
COMMENT ON COLUMN @extschema@.contact_masked.phone IS 'Phone, masked to the first three and last two digits';
COMMENT ON COLUMN @extschema@.contact_masked.has_wechat IS 'Whether a WeChat ID is known';
COMMENT ON COLUMN @extschema@.contact_masked.decision_role IS 'Role in the buying decision';
COMMENT ON COLUMN @extschema@.contact_masked.reports_to IS 'Contact this person reports to';
COMMENT ON COLUMN @extschema@.contact_masked.approval_limit IS 'Largest amount this person can approve alone';
COMMENT ON COLUMN @extschema@.contact_masked.verified IS 'Whether the details were confirmed';
COMMENT ON COLUMN @extschema@.contact_masked.owner IS 'Rep who owns the contact';
COMMENT ON COLUMN @extschema@.contact_masked.created_at IS 'When the row was created';
COMMENT ON COLUMN @extschema@.contact_masked.updated_at IS 'When the row was last changed';

CREATE VIEW @extschema@.lead_masked AS
SELECT l.lead_id, l.company_name,
       @extschema@.mask_name(l.contact_name) AS contact_name,
       l.title,
       @extschema@.mask_email(l.email) AS email,
       @extschema@.mask_phone(l.phone) AS phone,
       l.city, l.source, l.channel, l.campaign_id, l.fit_score, l.engagement_score, l.score,
       l.scored_at, l.stage, l.account_id, l.contact_id, l.owner, l.disqualified_reason,
       l.converted_at, l.created_at, l.updated_at
  FROM @extschema@.lead l;
COMMENT ON VIEW @extschema@.lead_masked IS 'Leads with personal data masked (脱敏线索), for analysts';
COMMENT ON COLUMN @extschema@.lead_masked.lead_id IS 'Lead identifier';
COMMENT ON COLUMN @extschema@.lead_masked.company_name IS 'Company name as written';
COMMENT ON COLUMN @extschema@.lead_masked.contact_name IS 'Name, masked';
COMMENT ON COLUMN @extschema@.lead_masked.title IS 'Job title';
COMMENT ON COLUMN @extschema@.lead_masked.email IS 'E-mail, masked to first character and domain';
COMMENT ON COLUMN @extschema@.lead_masked.phone IS 'Phone, masked';
COMMENT ON COLUMN @extschema@.lead_masked.city IS 'City as entered';
COMMENT ON COLUMN @extschema@.lead_masked.source IS 'Where the lead came from';
COMMENT ON COLUMN @extschema@.lead_masked.channel IS 'Marketing channel';
COMMENT ON COLUMN @extschema@.lead_masked.campaign_id IS 'Campaign';
COMMENT ON COLUMN @extschema@.lead_masked.fit_score IS 'Fit score';
COMMENT ON COLUMN @extschema@.lead_masked.engagement_score IS 'Engagement score';
COMMENT ON COLUMN @extschema@.lead_masked.score IS 'Combined score';
COMMENT ON COLUMN @extschema@.lead_masked.scored_at IS 'When scored';
COMMENT ON COLUMN @extschema@.lead_masked.stage IS 'Lifecycle stage';
COMMENT ON COLUMN @extschema@.lead_masked.account_id IS 'Matched account';
COMMENT ON COLUMN @extschema@.lead_masked.contact_id IS 'Matched contact';
COMMENT ON COLUMN @extschema@.lead_masked.owner IS 'Owning rep';
COMMENT ON COLUMN @extschema@.lead_masked.disqualified_reason IS 'Why disqualified';
COMMENT ON COLUMN @extschema@.lead_masked.converted_at IS 'When converted';
COMMENT ON COLUMN @extschema@.lead_masked.created_at IS 'When the lead arrived';
COMMENT ON COLUMN @extschema@.lead_masked.updated_at IS 'When last changed';

-- Roles, privileges, row-level security --------------------------------------------------

-- Roles are cluster-wide and outlive the extension; create them when missing.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cdp_admin', 'cdp_sales', 'cdp_analyst'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

-- The schema: only the three roles (and what is granted to them) may use it.
REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO cdp_admin, cdp_sales, cdp_analyst;

-- Tables and views, every one the modules created (see the comment at the top).
DO $$
DECLARE
    t record;
    personal text;
    open_cols text;
    has_owner boolean;
BEGIN
    FOR t IN
        SELECT c.oid::pg_catalog.regclass AS rel, c.relkind, c.relname,
               coalesce(c.reloptions::text[], '{}') AS opts
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,S}'::"char"[])
           AND NOT c.relispartition
         ORDER BY c.oid
    LOOP
        IF t.relkind OPERATOR(pg_catalog.=) 'S' THEN
            EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON SEQUENCE %s TO cdp_admin', t.rel);
            CONTINUE;
        END IF;
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) THEN
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO cdp_admin', t.rel);
        ELSE
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_admin', t.rel);
        END IF;

        -- analysts: every column that is not personal data
        SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (
                   WHERE NOT coalesce(pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%', false)),
               pg_catalog.string_agg(a.attname, ', ') FILTER (
                   WHERE coalesce(pg_catalog.col_description(a.attrelid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%', false))
          INTO open_cols, personal
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) t.rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{v,m}'::"char"[]) AND personal IS NOT NULL THEN
            NULL;       -- a view showing personal data unmasked: not for analysts
        ELSIF personal IS NULL THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_analyst', t.rel);
        ELSIF open_cols IS NOT NULL THEN
            EXECUTE pg_catalog.format('GRANT SELECT (%s) ON %s TO cdp_analyst', open_cols, t.rel);
        END IF;

        -- sales: views that run with the caller's rights (so row-level
        -- security applies); tables below
        IF t.relkind OPERATOR(pg_catalog.=) 'v'
           AND t.opts && '{security_invoker=true,security_invoker=on,security_invoker=1}'::text[] THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_sales', t.rel);
        END IF;

        -- every table with an owner column belongs to its owner
        IF t.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) THEN
            SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid OPERATOR(pg_catalog.=) t.rel AND a.attname OPERATOR(pg_catalog.=) 'owner'
                              AND a.atttypid OPERATOR(pg_catalog.=) 'name'::pg_catalog.regtype AND NOT a.attisdropped)
              INTO has_owner;
            IF has_owner THEN
                EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
                EXECUTE pg_catalog.format('CREATE POLICY cdp_admin_all ON %s TO cdp_admin USING (true) WITH CHECK (true)', t.rel);
                EXECUTE pg_catalog.format('CREATE POLICY cdp_analyst_read ON %s FOR SELECT TO cdp_analyst USING (true)', t.rel);
                EXECUTE pg_catalog.format(
                    'CREATE POLICY cdp_sales_own ON %s TO cdp_sales
                       USING (owner OPERATOR(pg_catalog.=) CURRENT_USER)
                       WITH CHECK (owner OPERATOR(pg_catalog.=) CURRENT_USER)', t.rel);
                EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO cdp_sales', t.rel);
            END IF;
        END IF;
    END LOOP;
END
$$;

-- Tables without an owner column follow the row they belong to.  The helper
-- is dropped once used.
CREATE FUNCTION @extschema@.governance_policies_for(tbl regclass, sales_using text, sales_check text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_admin_all ON %s TO cdp_admin USING (true) WITH CHECK (true)', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_analyst_read ON %s FOR SELECT TO cdp_analyst USING (true)', tbl);
    EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_read ON %s FOR SELECT TO cdp_sales USING (%s)', tbl, sales_using);
    IF sales_check IS NOT NULL THEN
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_insert ON %s FOR INSERT TO cdp_sales WITH CHECK (%s)', tbl, sales_check);
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_update ON %s FOR UPDATE TO cdp_sales USING (%s) WITH CHECK (%s)', tbl, sales_check, sales_check);
        EXECUTE pg_catalog.format('CREATE POLICY cdp_sales_delete ON %s FOR DELETE TO cdp_sales USING (%s)', tbl, sales_check);
    END IF;
END
$$;


SELECT @extschema@.governance_policies_for('@extschema@.consent',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) consent.contact_id)',
    NULL);
CREATE POLICY cdp_sales_insert ON @extschema@.consent FOR INSERT TO cdp_sales
    WITH CHECK (EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) consent.contact_id));
GRANT SELECT, INSERT ON @extschema@.consent TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.relationship',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.from_contact)
      OR EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.to_contact)',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) relationship.from_contact)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.relationship TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.account_profile',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) account_profile.account_id)',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) account_profile.account_id)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.account_profile TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.competitor_order',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) competitor_order.account_id)',
    'EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) competitor_order.account_id)');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.competitor_order TO cdp_sales;

SELECT @extschema@.governance_policies_for('@extschema@.bad_contact_point',
    'EXISTS (SELECT 1 FROM @extschema@.contact c WHERE c.contact_id OPERATOR(pg_catalog.=) bad_contact_point.contact_id)',
    NULL);
GRANT SELECT ON @extschema@.bad_contact_point TO cdp_sales;

-- Stage history: the moves of entities the rep can see, and the rep's own moves.
SELECT @extschema@.governance_policies_for('@extschema@.stage_history',
    'changed_by OPERATOR(pg_catalog.=) CURRENT_USER
      OR CASE WHEN entity_key OPERATOR(pg_catalog.!~) ''^[0-9]{1,18}$'' THEN false
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.account''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.account a WHERE a.account_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.lead''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              WHEN entity OPERATOR(pg_catalog.=) ''@extschema@.opportunity''::pg_catalog.regclass
              THEN EXISTS (SELECT 1 FROM @extschema@.opportunity o WHERE o.opportunity_id OPERATOR(pg_catalog.=) stage_history.entity_key::pg_catalog.int8)
              ELSE false END',
    NULL);
GRANT SELECT ON @extschema@.stage_history TO cdp_sales;
DROP FUNCTION @extschema@.governance_policies_for(regclass, text, text);

-- Lead matching (company module): a lead a rep writes is matched against
-- every account, not only the rep's own, and the outcome is recorded in
-- cdp.lead_match; so the matching trigger runs with the extension owner's
-- rights (its search_path is pinned).  Reps read the matches of their leads.
DO $$
BEGIN
    IF pg_catalog.to_regprocedure('@extschema@.lead_match_trigger()') IS NOT NULL THEN
        ALTER FUNCTION @extschema@.lead_match_trigger() SECURITY DEFINER;
    END IF;
    IF pg_catalog.to_regclass('@extschema@.lead_match') IS NOT NULL THEN
        ALTER TABLE @extschema@.lead_match ENABLE ROW LEVEL SECURITY;
        CREATE POLICY cdp_admin_all ON @extschema@.lead_match TO cdp_admin USING (true) WITH CHECK (true);
        CREATE POLICY cdp_analyst_read ON @extschema@.lead_match FOR SELECT TO cdp_analyst USING (true);
        CREATE POLICY cdp_sales_read ON @extschema@.lead_match FOR SELECT TO cdp_sales
            USING (EXISTS (SELECT 1 FROM @extschema@.lead l WHERE l.lead_id OPERATOR(pg_catalog.=) lead_match.lead_id));
        GRANT SELECT ON @extschema@.lead_match TO cdp_sales;
    END IF;
END
$$;

-- Reference data (cities, models, sheet definitions, ... of every module):
-- a table with no owner column, no personal data, no row-level security
-- and no foreign key to a table reps own rows in is readable by reps.  Logs
-- (name ending in _log) are not.
DO $$
DECLARE
    t pg_catalog.regclass;
BEGIN
    FOR t IN
        SELECT c.oid FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::"char"[]) AND NOT c.relispartition
           AND NOT c.relrowsecurity
           AND c.relname OPERATOR(pg_catalog.!~~) '%\_log'
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
                              AND (a.attname OPERATOR(pg_catalog.=) 'owner'
                                   OR pg_catalog.col_description(c.oid, a.attnum) OPERATOR(pg_catalog.~~) '%(personal data)%'))
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                            WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                              AND k.confrelid IN (SELECT r.oid FROM pg_catalog.pg_class r
                                                   WHERE r.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
                                                     AND r.relrowsecurity))
    LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON %s TO cdp_sales', t);
    END LOOP;
END
$$;

-- Reference data everyone reads.
GRANT SELECT ON @extschema@.city_market, @extschema@.outreach_model TO cdp_sales;
-- which contacts were erased (ids and counts only): can_contact and next_touch need it
GRANT SELECT ON @extschema@.erasure_log TO cdp_sales;

-- The lifecycle views read stage_history with the caller's rights, so a rep
-- sees the history row-level security lets them see.
ALTER VIEW @extschema@.time_in_stage SET (security_invoker = true);
ALTER VIEW @extschema@.stage_moves SET (security_invoker = true);
GRANT SELECT ON @extschema@.time_in_stage, @extschema@.stage_moves, @extschema@.consent_status,
                @extschema@.outreach_queue TO cdp_sales;

-- Erasure log and outreach models are kept by pg_dump.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.erasure_log', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.erasure_log_erasure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.outreach_model', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.bad_contact_point', '');

-- Functions, last so that every function of every module is covered: nothing
-- for PUBLIC; everything for the three roles, erasure for cdp_admin only.
-- Trigger functions need no EXECUTE privilege to fire.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO cdp_admin, cdp_sales, cdp_analyst;
REVOKE EXECUTE ON FUNCTION @extschema@.forget_contact(bigint) FROM cdp_sales, cdp_analyst;
-- A SECURITY DEFINER function acts with the extension owner's rights
-- (erasure, snapshot refreshes, guards): administrators only.  Triggers and
-- guards need no EXECUTE privilege to run.
DO $$
DECLARE
    f pg_catalog.regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace AND p.prosecdef
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM cdp_sales, cdp_analyst', f);
    END LOOP;
END
$$;
