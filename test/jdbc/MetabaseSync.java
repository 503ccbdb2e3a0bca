/*
 * MetabaseSync.java: do over JDBC what Metabase does when it syncs a
 * PostgreSQL database, against schema cdp, and print one "ok - ..." or
 * "not ok - ..." line per check (test/suites/views_jdbc.sh runs it).
 *
 * Metabase's sync (the generic JDBC driver) asks DatabaseMetaData for the
 * tables and views of each schema with their remarks, then for the columns
 * of each with type names and remarks, the primary and foreign keys of the
 * tables, and finally samples each relation with SELECT ... LIMIT to
 * fingerprint its values.  A BI user then picks a view and charts it, so
 * every view must have remarks, every column a comment and a scalar JDBC
 * type, and every view must answer.
 *
 * Usage: java -cp postgresql.jar MetabaseSync.java JDBC_URL VIEW_PREFIX_REGEX
 */
import java.sql.*;
import java.util.*;

public class MetabaseSync {
    static int failures = 0;

    static void check(boolean cond, String what) {
        System.out.println((cond ? "ok - " : "not ok - ") + what);
        if (!cond) failures++;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String biViews = args.length > 1 ? args[1] : "^(sheet|metrics|pool)_.*";
        Properties props = new Properties();
        props.setProperty("user", System.getenv().getOrDefault("PGUSER", "postgres"));
        // Metabase connects read-only-ish with a short statement timeout
        props.setProperty("options", "-c statement_timeout=60000");
        try (Connection conn = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = conn.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "connected to PostgreSQL over JDBC ("
                  + md.getDriverName() + " " + md.getDriverVersion() + ")");

            // 1. tables and views of the schema, with remarks
            Map<String, String> kinds = new TreeMap<>();
            Map<String, String> remarks = new TreeMap<>();
            try (ResultSet rs = md.getTables(null, "cdp", "%",
                    new String[] {"TABLE", "PARTITIONED TABLE", "VIEW", "MATERIALIZED VIEW"})) {
                while (rs.next()) {
                    kinds.put(rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"));
                    remarks.put(rs.getString("TABLE_NAME"), rs.getString("REMARKS"));
                }
            }
            List<String> views = new ArrayList<>();
            List<String> noRemarks = new ArrayList<>();
            for (Map.Entry<String, String> e : kinds.entrySet()) {
                if (e.getValue().equals("VIEW") || e.getValue().equals("MATERIALIZED VIEW")) views.add(e.getKey());
                String r = remarks.get(e.getKey());
                if (r == null || r.isBlank()) noRemarks.add(e.getKey());
            }
            check(kinds.size() > 10, "getTables lists " + kinds.size() + " tables and views in schema cdp");
            String[] expected = {"sheet_city_market", "sheet_account_profile", "sheet_development_strategy",
                                 "sheet_operating_kpis", "sheet_order_history", "sheet_completeness",
                                 "metrics_recognize", "metrics_reach", "metrics_relationship", "metrics_return",
                                 "pool_summary"};
            for (String v : expected)
                check("VIEW".equals(kinds.get(v)), "view cdp." + v + " is listed as a VIEW");
            for (String v : new String[] {"metrics_recognize", "metrics_reach", "metrics_relationship", "metrics_return"})
                check("MATERIALIZED VIEW".equals(kinds.get(v + "_snapshot")), "cdp." + v + "_snapshot is listed as a MATERIALIZED VIEW");
            check(noRemarks.isEmpty(), "every table and view has remarks" + (noRemarks.isEmpty() ? "" : ": missing on " + noRemarks));
            int chinese = 0;
            for (String v : views)
                if (v.matches(biViews) && remarks.get(v).codePoints().anyMatch(c -> c >= 0x4e00 && c <= 0x9fff))
                    chinese++;
            long bi = views.stream().filter(v -> v.matches(biViews)).count();
            check(chinese == bi, chinese + " of " + bi + " BI views carry the Chinese business term in their remarks");

            // 2. columns with types and remarks
            for (String v : views) {
                List<String> bad = new ArrayList<>();
                List<String> uncommented = new ArrayList<>();
                int n = 0;
                try (ResultSet rs = md.getColumns(null, "cdp", v, "%")) {
                    while (rs.next()) {
                        n++;
                        String col = rs.getString("COLUMN_NAME");
                        int type = rs.getInt("DATA_TYPE");
                        String typeName = rs.getString("TYPE_NAME");
                        String r = rs.getString("REMARKS");
                        if (r == null || r.isBlank()) uncommented.add(col);
                        if (!col.matches("[a-z][a-z0-9_]*")) bad.add(col + " (name)");
                        if (v.matches(biViews) && (type == Types.ARRAY || type == Types.STRUCT || type == Types.OTHER
                                || type == Types.JAVA_OBJECT || type == Types.SQLXML || typeName.startsWith("json")
                                || typeName.startsWith("_")))
                            bad.add(col + " (" + typeName + ")");
                    }
                }
                check(n > 0 && uncommented.isEmpty(), "view cdp." + v + ": " + n + " columns, all with remarks"
                      + (uncommented.isEmpty() ? "" : "; missing on " + uncommented));
                if (v.matches(biViews))
                    check(bad.isEmpty(), "view cdp." + v + ": scalar snake_case columns only" + (bad.isEmpty() ? "" : "; not: " + bad));
            }

            // 3. keys of the tables, as Metabase reads them for joins
            int fks = 0;
            for (Map.Entry<String, String> e : kinds.entrySet()) {
                if (!e.getValue().equals("TABLE")) continue;
                try (ResultSet rs = md.getImportedKeys(null, "cdp", e.getKey())) {
                    while (rs.next()) fks++;
                }
                try (ResultSet rs = md.getPrimaryKeys(null, "cdp", e.getKey())) {
                    rs.next();
                }
            }
            check(fks > 10, "getImportedKeys finds " + fks + " foreign-key columns between the tables");

            // 4. sample every view the way sync fingerprints it
            try (Statement st = conn.createStatement()) {
                for (String v : views) {
                    long t0 = System.nanoTime();
                    int rows = 0;
                    boolean okRead = true;
                    String err = "";
                    try (ResultSet rs = st.executeQuery("SELECT * FROM \"cdp\".\"" + v + "\" LIMIT 10000")) {
                        ResultSetMetaData rmd = rs.getMetaData();
                        while (rs.next()) {
                            rows++;
                            for (int i = 1; i <= rmd.getColumnCount(); i++) rs.getObject(i);
                        }
                    } catch (SQLException ex) {
                        okRead = false;
                        err = ": " + ex.getMessage();
                    }
                    long ms = (System.nanoTime() - t0) / 1000000;
                    boolean needRows = v.matches(biViews) && !v.equals("sheet_order_history") ? rows > 0 : true;
                    check(okRead && needRows, "SELECT * FROM cdp." + v + " LIMIT 10000 read " + rows + " rows in " + ms + " ms" + err);
                }
            }
        }
        System.out.println(failures == 0 ? "# all JDBC checks passed" : "# " + failures + " JDBC checks failed");
        System.exit(failures == 0 ? 0 : 1);
    }
}
