// backend.test.js: cdp called the way a Node.js web backend calls it, through
// node-postgres (npm "pg") with bind parameters only, never string-built SQL.
//
// The story of one inbound lead: create it, match it to an account, score
// it, move it along the lifecycle (and be refused where the rules say so),
// then read its history, its funnel and the BI views.  Steps that need a
// module which is not installed (company matching, scoring, funnels) are
// reported as "# skip" lines, not as passes; each step says which function
// or view it needs, so adding a module's step is adding one entry below.
//
// Prints "ok - ..." / "not ok - ..." lines; exits non-zero on any failure.
// Connection settings come from PGHOST, PGPORT, PGUSER, PGDATABASE.
'use strict';
const { Pool } = require('pg');

const pool = new Pool({ max: 4, application_name: 'cdp-node-backend-test' });
let failures = 0;
const ok = (cond, what) => {
  console.log(`${cond ? 'ok' : 'not ok'} - ${what}`);
  if (!cond) failures++;
};
const q = (text, values) => pool.query(text, values);

// Run fn and return the SQLSTATE it fails with, or null when it succeeds.
async function sqlstate(fn) {
  try {
    await fn();
    return null;
  } catch (e) {
    return e.code || String(e);
  }
}

async function has(kind, name) {
  const fn = kind === 'function' ? 'to_regprocedure' : 'to_regclass';
  const { rows } = await q(`SELECT ${fn}($1) IS NOT NULL AS present`, [name]);
  return rows[0].present;
}

const state = {};

// The steps, in the order a backend meets them.  `needs` lists the cdp
// objects a step calls; when one is missing the step is skipped.
const steps = [
  {
    name: 'create an account and an inbound lead',
    needs: [],
    run: async () => {
      const acc = await q(
        `INSERT INTO cdp.account (name, short_name, domain, city, industry, tier, employees)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING account_id`,
        ['杭州海纳软件有限公司', '海纳软件', 'haina-soft.com.cn', '杭州', '软件', 'standard', 120]);
      state.accountId = acc.rows[0].account_id;
      ok(/^\d+$/.test(state.accountId), `account created with id ${state.accountId} (bigint comes back as a string)`);
      const lead = await q(
        `INSERT INTO cdp.lead (company_name, contact_name, email, city, source, channel)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING lead_id, stage, created_at`,
        ['海纳软件', '周明', 'zhou.ming@haina-soft.com.cn', 'Hangzhou', 'web_form', 'search_ads']);
      state.leadId = lead.rows[0].lead_id;
      ok(lead.rows[0].stage === 'lead', 'a new lead starts in stage lead');
      ok(lead.rows[0].created_at instanceof Date, 'timestamptz comes back as a JavaScript Date');
      const hist = await q(
        `SELECT stage, previous_stage FROM cdp.stage_history WHERE entity = $1::regclass AND entity_key = $2`,
        ['cdp.lead', state.leadId]);
      ok(hist.rows.length === 1 && hist.rows[0].stage === 'lead' && hist.rows[0].previous_stage === null,
         'the insert opened the lead\'s first stay in cdp.stage_history');
    },
  },
  {
    name: 'match the lead to an account',
    needs: ['cdp.match_accounts(text,text,integer)'],
    run: async () => {
      const m = await q(`SELECT account_id, score, matched_by FROM cdp.match_accounts($1, $2, $3)`,
                        ['海纳软件', 'haina-soft.com.cn', 5]);
      ok(m.rows.length > 0 && m.rows[0].account_id === state.accountId,
         'cdp.match_accounts($1, $2, $3) puts the account first');
      await q(`UPDATE cdp.lead SET account_id = $1 WHERE lead_id = $2`, [m.rows[0].account_id, state.leadId]);
    },
  },
  {
    name: 'link the lead to its account (no matcher installed: by e-mail domain)',
    needs: [],
    skipIf: ['cdp.match_accounts(text,text,integer)'],
    run: async () => {
      const r = await q(
        `UPDATE cdp.lead l SET account_id = a.account_id FROM cdp.account a
          WHERE l.lead_id = $1 AND lower(a.domain) = lower(split_part(l.email, '@', 2))
          RETURNING l.account_id`, [state.leadId]);
      ok(r.rowCount === 1 && r.rows[0].account_id === state.accountId, 'lead linked to the account by its e-mail domain');
    },
  },
  {
    name: 'score the lead',
    needs: ['cdp.score_leads(text,boolean)'],
    run: async () => {
      const s = await q(`SELECT scored, moved_to_mql, moved_to_sql FROM cdp.score_leads($1, $2)`, ['default', false]);
      const r = await q(`SELECT score, scored_at, stage FROM cdp.lead WHERE lead_id = $1`, [state.leadId]);
      ok(s.rows[0].scored === '1' && r.rows[0].scored_at !== null && r.rows[0].score !== null,
         `cdp.score_leads($1, $2) scored the lead: score ${r.rows[0].score}`);
      ok(r.rows[0].stage === 'lead', 'a lead with no BANT and no engagement stays a lead');
    },
  },
  {
    name: 'move the lead along the lifecycle',
    needs: ['cdp.set_stage(regclass,text,text,text)'],
    run: async () => {
      const prev = await q(`SELECT cdp.set_stage($1::regclass, $2, $3, $4) AS previous`,
                           ['cdp.lead', state.leadId, 'mql', null]);
      ok(prev.rows[0].previous === 'lead', 'cdp.set_stage($1, $2, $3, $4) moves lead -> mql and returns the previous stage');

      // refused moves come back as SQLSTATEs a backend can map to HTTP answers
      ok(await sqlstate(() => q(`SELECT cdp.set_stage($1::regclass, $2, $3)`, ['cdp.lead', state.leadId, 'sql'])) === '23502',
         'sql without an owner is refused with 23502 (required column empty)');
      ok(await sqlstate(() => q(`SELECT cdp.set_stage($1::regclass, $2, $3)`, ['cdp.lead', state.leadId, 'won'])) === '22023',
         'an unknown stage is refused with 22023');
      ok(await sqlstate(() => q(`SELECT cdp.set_stage($1::regclass, $2, $3)`, ['cdp.lead', '999999999', 'mql'])) === 'P0002',
         'a key that does not exist is refused with P0002');

      await q(`UPDATE cdp.lead SET owner = $1 WHERE lead_id = $2`, ['rep_node', state.leadId]);
      await q(`SELECT cdp.set_stage($1::regclass, $2, $3)`, ['cdp.lead', state.leadId, 'sql']);
      ok(await sqlstate(() => q(`SELECT cdp.set_stage($1::regclass, $2, $3)`, ['cdp.lead', state.leadId, 'mql'])) === '23514',
         'a backward move without a reason is refused with 23514');
      const back = await q(`SELECT cdp.set_stage($1::regclass, $2, $3, $4) AS previous`,
                           ['cdp.lead', state.leadId, 'mql', '客户预算未批 budget not approved']);
      ok(back.rows[0].previous === 'sql', 'the same backward move with a reason goes through');

      // a transaction the backend rolls back leaves no trace
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('cdp.stage_reason', $1, true)`, ['node rollback test']);
        await client.query(`UPDATE cdp.lead SET stage = $1 WHERE lead_id = $2`, ['disqualified', state.leadId]);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      const after = await q(`SELECT l.stage, count(h.*) AS stays FROM cdp.lead l
                               JOIN cdp.stage_history h ON h.entity = 'cdp.lead'::regclass AND h.entity_key = l.lead_id::text
                              WHERE l.lead_id = $1 GROUP BY l.stage`, [state.leadId]);
      ok(after.rows[0].stage === 'mql' && after.rows[0].stays === '4',
         'a rolled-back UPDATE leaves the stage and the history untouched (4 stays: lead, mql, sql, mql)');

      // several requests at once, each on its own pooled connection
      const ids = [];
      for (let i = 0; i < 8; i++) {
        const r = await q(`INSERT INTO cdp.lead (company_name, owner) VALUES ($1, $2) RETURNING lead_id`,
                          [`并发测试 ${i}`, 'rep_node']);
        ids.push(r.rows[0].lead_id);
      }
      const res = await Promise.all(ids.map((id) => q(`SELECT cdp.set_stage($1::regclass, $2, $3) AS previous`,
                                                     ['cdp.lead', id, 'sql'])));
      ok(res.every((r) => r.rows[0].previous === 'lead'), '8 concurrent set_stage calls from a pool all succeed');
    },
  },
  {
    name: 'read the lead\'s history and time in stage',
    needs: ['cdp.time_in_stage', 'cdp.stage_moves'],
    run: async () => {
      const t = await q(`SELECT stage, visits FROM cdp.time_in_stage
                          WHERE entity = $1::regclass AND entity_key = $2 ORDER BY stage`, ['cdp.lead', state.leadId]);
      ok(JSON.stringify(t.rows.map((r) => [r.stage, r.visits])) === JSON.stringify([['lead', '1'], ['mql', '2'], ['sql', '1']]),
         'cdp.time_in_stage: lead once, mql twice, sql once');
      const m = await q(`SELECT kind, reason FROM cdp.stage_moves
                          WHERE entity = $1::regclass AND entity_key = $2 ORDER BY moved_at`, ['cdp.lead', state.leadId]);
      ok(m.rows.map((r) => r.kind).join(',') === 'entry,forward,forward,backward'
         && m.rows[3].reason === '客户预算未批 budget not approved',
         'cdp.stage_moves classifies the moves and keeps the reason of the backward one');
    },
  },
  {
    name: 'open an opportunity and read its decision chain',
    needs: ['cdp.decision_chain_coverage(bigint,text[])'],
    run: async () => {
      const c = await q(`INSERT INTO cdp.contact (account_id, name, decision_role) VALUES ($1, $2, $3) RETURNING contact_id`,
                        [state.accountId, '周明', 'it']);
      const o = await q(`INSERT INTO cdp.opportunity (account_id, name, amount, owner) VALUES ($1, $2, $3, $4)
                         RETURNING opportunity_id`, [state.accountId, '数据平台项目', 380000, 'rep_node']);
      const d = await q(`SELECT decision_role, covered, contact_ids FROM cdp.decision_chain_coverage($1)
                          WHERE required ORDER BY decision_role`, [o.rows[0].opportunity_id]);
      const it = d.rows.find((r) => r.decision_role === 'it');
      const dm = d.rows.find((r) => r.decision_role === 'decision_maker');
      ok(it.covered === true && JSON.stringify(it.contact_ids) === JSON.stringify([c.rows[0].contact_id])
         && dm.covered === false,
         'cdp.decision_chain_coverage($1): IT covered by the new contact (bigint[] as strings), no decision maker yet');
    },
  },
  {
    name: 'read the funnel',
    needs: ['cdp.stage_conversion'],
    run: async () => {
      const f = await q(`SELECT stage, next_stage, entered, converted FROM cdp.stage_conversion
                          WHERE model = $1 AND stage = $2`, ['b2b', 'lead']);
      ok(f.rows.length === 1 && f.rows[0].next_stage === 'mql' && f.rows[0].entered === '9' && f.rows[0].converted === '9',
         'cdp.stage_conversion: all 9 leads entered stage lead and went on (one to mql, eight straight to sql)');
    },
  },
  {
    name: 'read the BI views for the account',
    needs: ['cdp.sheet_completeness', 'cdp.pool_summary', 'cdp.sheet_complete(regclass,text,text)'],
    run: async () => {
      const s = await q(`SELECT required_fields, filled_fields, completeness, is_complete, missing_fields
                           FROM cdp.sheet_completeness WHERE account_id = $1`, [state.accountId]);
      ok(s.rows.length === 1 && s.rows[0].is_complete === false && /decision_maker/.test(s.rows[0].missing_fields),
         `sheet_completeness for the account: ${s.rows[0].filled_fields}/${s.rows[0].required_fields}, missing ${s.rows[0].missing_fields}`);
      ok(typeof s.rows[0].completeness === 'string', 'numeric columns come back as exact strings');
      const g = await q(`SELECT cdp.sheet_complete($1::regclass, $2, $3) AS complete`, ['cdp.lead', state.leadId, 'sql']);
      ok(g.rows[0].complete === false, 'the completeness guard, called directly, says the lead\'s account is not ready');
      const p = await q(`SELECT pool, sum(members)::int AS members FROM cdp.pool_summary
                          WHERE entity = $1 AND owner = $2 GROUP BY pool ORDER BY pool`, ['lead', 'rep_node']);
      ok(JSON.stringify(p.rows) === JSON.stringify([{ pool: 'marketing', members: 1 }, { pool: 'sales', members: 8 }]),
         'pool_summary: rep_node has 1 lead in the marketing pool and 8 in the sales pool');
    },
  },
];

(async () => {
  for (const step of steps) {
    const missing = [];
    for (const n of step.needs) {
      if (!(await has(n.includes('(') ? 'function' : 'relation', n))) missing.push(n);
    }
    let replaced = false;
    for (const n of step.skipIf || []) {
      if (await has(n.includes('(') ? 'function' : 'relation', n)) replaced = true;
    }
    if (missing.length > 0 || replaced) {
      console.log(`# skip ${step.name}: ${replaced ? 'a better step replaces it' : 'needs ' + missing.join(', ')}`);
      continue;
    }
    try {
      await step.run();
    } catch (e) {
      ok(false, `${step.name}: ${e.code || ''} ${e.message}`);
    }
  }
  await pool.end();
  process.exit(failures === 0 ? 0 : 1);
})();
