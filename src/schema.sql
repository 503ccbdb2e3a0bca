\echo Use "CREATE EXTENSION cdp" to load this file. \quit

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

-- Segments ----------------------------------------------------------------------
--
-- The business segment of an account, used by the BI views (views.sql) and
-- the per-account sheet summary (rollup.sql).

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
