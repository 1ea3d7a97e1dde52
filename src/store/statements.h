/* Every SQL statement hongbao runs, written once with $1-style parameters in the subset
 * SQLite and PostgreSQL share (internal to src/store; store.c prepares them at open). */
#ifndef HB_STORE_STATEMENTS_H
#define HB_STORE_STATEMENTS_H

#define ACCOUNT_COLUMNS                                                                      \
    "a.id, a.owner, a.kind, a.tier, a.currency, b.balance, a.flags, a.status, "              \
    "a.restricted_until, a.created_at, b.debit_day, b.day_debits, b.last_transfer, "          \
    "a.real_name, a.region, b.debit_year, b.year_debits"
#define TRANSFER_COLUMNS                                                                     \
    "id, idem_key, debit_id, credit_id, amount, currency, kind, reference, created_at, "     \
    "prev_debit, prev_credit"
#define ADJUSTMENT_COLUMNS                                                                   \
    "id, debit_id, credit_id, amount, currency, reason, status, proposed_by, proposed_at, "  \
    "decided_by, decided_at, note, transfer_id"
#define AUDIT_COLUMNS                                                                        \
    "node, seq, time, actor, action, object, digest, prev_hash, hash, alg, row_digest"
#define CUSTOMER_COLUMNS                                                                     \
    "id, tier, region, name_box, phone_box, phone_hash, id_number_box, pending_id, "         \
    "available_id, created_at, fee_rate_bp, agreement_single, agreement_daily, "               \
    "agreement_validity_s, agreement_crypto, agreement_max_shares"
#define KEY_COLUMNS "key_id, secret_box, role, account_id, created_at, revoked_at"
#define SESSION_COLUMNS "token_hash, account_id, expires_at, revoked_at, created_at, role"
#define PACKET_COLUMNS                                                                       \
    "id, sender_id, currency, total, count, mode, fission, seed_id, allow_sender, wishing, "  \
    "scene, status, claimed_count, claimed_amount, refunded_amount, best_seq, created_at, "   \
    "expires_at, finished_at, fund_transfer, refund_transfer"
#define PACKET_COLUMNS_P                                                                     \
    "p.id, p.sender_id, p.currency, p.total, p.count, p.mode, p.fission, p.seed_id, "        \
    "p.allow_sender, p.wishing, p.scene, p.status, p.claimed_count, p.claimed_amount, "      \
    "p.refunded_amount, p.best_seq, p.created_at, p.expires_at, p.finished_at, "             \
    "p.fund_transfer, p.refund_transfer"
_Static_assert(LIMIT_SHARE_CHUNK == 256, "PACKET_CLAIM_VIEW divides by 256");
#define CODE_COLUMNS                                                                         \
    "id, owner_id, kind, amount, currency, memo, order_no, merchant_name, city, mcc, suite, "  \
    "token, status, created_at, expires_at, ended_at"
#define CLAIM_COLUMNS "packet_id, seq, claimer_id, amount, transfer_id, claimed_at"
/* Packets created in [$1, $2), of sender $3 (0 = all) and scene $4 ('' = all). */
#define PACKET_FILTER                                                                        \
    "p.created_at >= $1 AND p.created_at < $2 AND (CAST($3 AS BIGINT) = 0 "                   \
    "OR p.sender_id = CAST($3 AS BIGINT)) "                                                  \
    "AND ($4 = '' OR p.scene = $4)"

#define PAYMENT_COLUMNS                                                                      \
    "id, code_id, code_kind, payer_id, owner_id, credit_id, currency, amount, fee, "          \
    "fee_rate_bp, refunded, refunded_fee, settles, business_day, settlement_id, transfer_id, " \
    "fee_transfer_id, device, region, order_no, created_at, refunded_at, settled_refunded, "  \
    "settled_refunded_fee"
#define REFUND_COLUMNS                                                                       \
    "id, payment_id, amount, fee, source_id, transfer_id, fee_transfer_id, created_at"
#define SETTLEMENT_COLUMNS                                                                   \
    "id, merchant_id, day, currency, gross, fees, refunds, net, count, transfer_id, created_at"
#define WEBHOOK_COLUMNS "id, owner_id, url, events, secret_box, status, created_at, rotated_at"
#define DELIVERY_COLUMNS                                                                     \
    "id, webhook_id, event_type, object, body, status, attempts, next_at, window_start, "     \
    "last_code, last_error, created_at, delivered_at"
/* Payments matching a payment_filter: party $1, code $2, created in [$3, $4) ($4 0 = no end). */
#define PAYMENT_FILTER                                                                       \
    "(CAST($1 AS BIGINT) = 0 OR owner_id = CAST($1 AS BIGINT) OR payer_id = CAST($1 AS BIGINT)) " \
    "AND (CAST($2 AS BIGINT) = 0 OR code_id = CAST($2 AS BIGINT)) AND created_at >= $3 "      \
    "AND (CAST($4 AS BIGINT) = 0 OR created_at < CAST($4 AS BIGINT))"
#define PAY_STATEMENTS(X)                                                                    \
    X(PAYMENT_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM payments")                           \
    X(REFUND_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM refunds")                             \
    X(SETTLEMENT_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM settlements")                     \
    X(WEBHOOK_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM webhooks")                           \
    X(DELIVERY_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM deliveries")                        \
    X(PAYMENT_INSERT, "INSERT INTO payments (" PAYMENT_COLUMNS ", audit_node, audit_seq) VALUES ($1, $2, $3, $4, $5, " \
                      "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, " \
                      "$23, $24, $25, $26)")                                                             \
    X(PAYMENT_GET, "SELECT " PAYMENT_COLUMNS " FROM payments WHERE id = $1")                 \
    X(PAYMENT_REFUNDED, "UPDATE payments SET refunded = refunded + $3, "                     \
                        "refunded_fee = refunded_fee + $4, refunded_at = $5 "                \
                        "WHERE id = $1 AND refunded = $2")                                   \
    X(STATIC_DAY_GET, "SELECT total FROM static_days WHERE account_id = $1 AND day = $2")   \
    X(STATIC_DAY_ADD, "INSERT INTO static_days (account_id, day, total) VALUES ($1, $2, $3) " \
                      "ON CONFLICT (account_id, day) DO UPDATE "                             \
                      "SET total = static_days.total + excluded.total")                      \
    X(PAYMENT_LIST, "SELECT " PAYMENT_COLUMNS " FROM payments WHERE " PAYMENT_FILTER         \
                    " AND (CAST($5 AS BIGINT) = 0 OR id < CAST($5 AS BIGINT)) "              \
                    "ORDER BY id DESC LIMIT $6")                                             \
    X(PAYMENT_LIST_SETTLEMENT, "SELECT " PAYMENT_COLUMNS " FROM payments "                   \
                               "WHERE settlement_id = $1 AND id > $2 ORDER BY id LIMIT $3")  \
    X(REFUND_INSERT, "INSERT INTO refunds (" REFUND_COLUMNS ", audit_node, audit_seq) "     \
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")                                                          \
    X(REFUND_GET, "SELECT " REFUND_COLUMNS " FROM refunds WHERE id = $1")                    \
    X(REFUND_LIST, "SELECT " REFUND_COLUMNS " FROM refunds WHERE payment_id = $1 "           \
                   "ORDER BY id LIMIT $2")                                                   \
    X(SETTLE_DUE, "SELECT p.owner_id, p.currency, CAST(SUM(p.amount) AS BIGINT), "           \
                  "CAST(SUM(p.fee - p.refunded_fee) AS BIGINT), "                            \
                  "CAST(SUM(p.refunded) AS BIGINT), "                                        \
                  "CAST(SUM(p.amount - p.fee - p.refunded + p.refunded_fee) AS BIGINT), "   \
                  "COUNT(*), p.credit_id FROM payments p "                                    \
                  "WHERE p.settles = 1 AND p.settlement_id = 0 AND p.business_day <= $1 "   \
                  "AND p.owner_id > $2 AND NOT EXISTS (SELECT 1 FROM settlements s "        \
                  "WHERE s.merchant_id = p.owner_id AND s.day = $1) "                        \
                  "GROUP BY p.owner_id, p.credit_id, p.currency ORDER BY p.owner_id LIMIT $3")            \
    X(SETTLEMENT_INSERT, "INSERT INTO settlements (" SETTLEMENT_COLUMNS ", audit_node, "      \
                         "audit_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")                            \
    X(SETTLEMENT_STAMP, "UPDATE payments SET settlement_id = $3, settled_refunded = refunded, " \
                        "settled_refunded_fee = refunded_fee WHERE credit_id = $1 "           \
                        "AND settles = 1 AND settlement_id = 0 AND business_day <= $2")     \
    X(SETTLEMENT_GET, "SELECT " SETTLEMENT_COLUMNS " FROM settlements WHERE id = $1")        \
    X(SETTLEMENT_LIST, "SELECT " SETTLEMENT_COLUMNS " FROM settlements "                     \
                       "WHERE (CAST($1 AS BIGINT) = 0 OR merchant_id = CAST($1 AS BIGINT)) " \
                       "AND (CAST($2 AS BIGINT) < 0 OR day = CAST($2 AS BIGINT)) "          \
                       "AND (CAST($3 AS BIGINT) = 0 OR id < CAST($3 AS BIGINT)) "            \
                       "ORDER BY id DESC LIMIT $4")                                          \
    X(WEBHOOK_INSERT, "INSERT INTO webhooks (" WEBHOOK_COLUMNS ") VALUES ($1, $2, $3, $4, "   \
                      "$5, $6, $7, $8)")                                                     \
    X(WEBHOOK_GET, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1")                 \
    X(WEBHOOK_UPDATE, "UPDATE webhooks SET secret_box = $2, status = $3, rotated_at = $4 "   \
                      "WHERE id = $1 AND status = 0")                                        \
    X(WEBHOOK_SET_SECRET, "UPDATE webhooks SET secret_box = $2 WHERE id = $1")               \
    X(WEBHOOK_PAGE, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE id > $1 ORDER BY id "     \
                    "LIMIT $2")                                                              \
    X(WEBHOOK_LIST, "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE owner_id = $1 "          \
                    "AND status = 0 AND id > $2 ORDER BY id LIMIT $3")                       \
    X(DELIVERY_INSERT, "INSERT INTO deliveries (" DELIVERY_COLUMNS ") VALUES ($1, $2, $3, "   \
                       "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")                        \
    X(DELIVERY_GET, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE id = $1")             \
    X(DELIVERY_UPDATE, "UPDATE deliveries SET status = $2, attempts = $3, next_at = $4, "    \
                       "window_start = $5, last_code = $6, last_error = $7, "               \
                       "delivered_at = $8 WHERE id = $1")                                    \
    X(DELIVERY_DUE, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE status = 0 "          \
                    "AND next_at <= $1 ORDER BY next_at, id LIMIT $2")                       \
    X(DELIVERY_LIST, "SELECT " DELIVERY_COLUMNS " FROM deliveries WHERE webhook_id = $1 "    \
                     "AND (CAST($2 AS BIGINT) = 0 OR id < CAST($2 AS BIGINT)) "              \
                     "ORDER BY id DESC LIMIT $3")                                            \
    X(CHECK_PENDING, "SELECT COUNT(*) FROM accounts a JOIN balances b ON b.account_id = a.id " \
                     "WHERE a.kind = 2 AND b.balance <> (SELECT "                            \
                     "CAST(COALESCE(SUM(p.amount - p.fee - p.refunded + p.refunded_fee), 0) " \
                     "AS BIGINT) FROM payments p WHERE p.credit_id = a.id AND p.settles = 1 " \
                     "AND p.settlement_id = 0)")
#define CASE_COLUMNS                                                                         \
    "id, account_id, rule, object, decision, reason, status, events, first_at, last_at, "    \
    "resolution, resolved_by, resolved_at"
#define LIST_COLUMNS "kind, value, fuse, reason, expires_at, created_at, created_by"
#define RISK_STATEMENTS(X)                                                                   \
    X(CASE_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM risk_cases")                            \
    X(ADJUSTMENT_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM adjustments")                     \
    X(ADJUSTMENT_INSERT, "INSERT INTO adjustments (" ADJUSTMENT_COLUMNS ") VALUES ($1, $2, " \
                         "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")                   \
    X(ADJUSTMENT_GET, "SELECT " ADJUSTMENT_COLUMNS " FROM adjustments WHERE id = $1")         \
    X(ADJUSTMENT_DECIDE, "UPDATE adjustments SET status = $2, decided_by = $3, "             \
                         "decided_at = $4, note = $5, transfer_id = $6 WHERE id = $1 "       \
                         "AND status = 1")                                                   \
    X(ADJUSTMENT_LIST, "SELECT " ADJUSTMENT_COLUMNS " FROM adjustments "                     \
                       "WHERE (CAST($1 AS BIGINT) = 0 OR status = CAST($1 AS BIGINT)) "      \
                       "AND (CAST($2 AS BIGINT) = 0 OR id < CAST($2 AS BIGINT)) "            \
                       "ORDER BY id DESC LIMIT $3")                                          \
    X(CASE_INSERT, "INSERT INTO risk_cases (" CASE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, " \
                   "$7, $8, $9, $10, $11, $12, $13)")                                        \
    X(CASE_FIND_OPEN, "SELECT " CASE_COLUMNS " FROM risk_cases WHERE account_id = $1 "       \
                      "AND rule = $2 AND object = $3 AND status = 0")                        \
    X(CASE_TOUCH, "UPDATE risk_cases SET events = events + 1, last_at = $2, decision = $3, " \
                  "reason = $4 WHERE id = $1 AND status = 0")                                \
    X(CASE_GET, "SELECT " CASE_COLUMNS " FROM risk_cases WHERE id = $1")                     \
    X(CASE_LIST, "SELECT " CASE_COLUMNS " FROM risk_cases "                                  \
                 "WHERE (CAST($1 AS BIGINT) < 0 OR status = CAST($1 AS BIGINT)) "            \
                 "AND (CAST($2 AS BIGINT) = 0 OR account_id = CAST($2 AS BIGINT)) "          \
                 "AND ($3 = '' OR rule = $3) "                                               \
                 "AND (CAST($4 AS BIGINT) = 0 OR id < CAST($4 AS BIGINT)) "                  \
                 "ORDER BY id DESC LIMIT $5")                                                \
    X(CASE_RESOLVE, "UPDATE risk_cases SET status = 1, resolution = $2, resolved_by = $3, "  \
                    "resolved_at = $4 WHERE id = $1 AND status = 0")                         \
    X(LIST_GET, "SELECT " LIST_COLUMNS " FROM risk_lists WHERE kind = $1 AND value = $2")    \
    X(LIST_VERSION, "SELECT version FROM risk_version WHERE id = 1")                         \
    X(LIST_VERSION_BUMP, "UPDATE risk_version SET version = version + 1 WHERE id = 1")      \
    X(LIST_PUT, "INSERT INTO risk_lists (" LIST_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7) " \
                "ON CONFLICT (kind, value) DO UPDATE SET fuse = excluded.fuse, "             \
                "reason = excluded.reason, expires_at = excluded.expires_at, "               \
                "created_at = excluded.created_at, created_by = excluded.created_by")        \
    X(LIST_DELETE, "DELETE FROM risk_lists WHERE kind = $1 AND value = $2")                  \
    X(LIST_PAGE, "SELECT " LIST_COLUMNS " FROM risk_lists WHERE kind = $1 AND value > $2 "   \
                 "AND (expires_at = 0 OR expires_at > $3) ORDER BY value LIMIT $4")          \
    X(BINDING_EXISTS, "SELECT COUNT(*) FROM device_bindings WHERE device = $1 "              \
                      "AND account_id = $2")                                                 \
    X(BINDING_COUNT, "SELECT COUNT(*) FROM device_bindings WHERE device = $1 AND first_at > $2") \
    X(BINDING_ALL, "SELECT account_id, first_at, last_at FROM device_bindings "              \
                   "WHERE device = $1 LIMIT $2")                                             \
    X(BINDING_LATEST, "SELECT account_id, first_at, last_at FROM device_bindings "           \
                      "WHERE device = $1 ORDER BY last_at DESC LIMIT $2")                    \
    X(BINDING_INSERT, "INSERT INTO device_bindings (device, account_id, first_at, last_at) " \
                      "VALUES ($1, $2, $3, $3)")                                             \
    X(BINDING_USED, "UPDATE device_bindings SET last_at = $3 WHERE device = $1 "             \
                    "AND account_id = $2")                                                   \
    X(LARGE_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM large_reports")                        \
    X(LARGE_INSERT, "INSERT INTO large_reports (id, account_id, day, kind, amount, reference, " \
                    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")                       \
    X(LARGE_DAILY_EXISTS, "SELECT COUNT(*) FROM large_reports WHERE account_id = $1 "        \
                          "AND day = $2 AND kind = 2")                                       \
    X(LARGE_LIST, "SELECT id, account_id, day, kind, amount, reference, created_at "         \
                  "FROM large_reports WHERE day >= $1 AND day <= $2 AND id > $3 "            \
                  "ORDER BY id LIMIT $4")                                                    \
    X(NIGHT_GET, "SELECT window_start, count FROM night_counts WHERE account_id = $1")       \
    X(NIGHT_PUT, "INSERT INTO night_counts (account_id, window_start, count) VALUES ($1, $2, $3) " \
                 "ON CONFLICT (account_id) DO UPDATE SET window_start = excluded.window_start, " \
                 "count = excluded.count")                                                   \
    X(PACKET_DAY_GET, "SELECT n, total, squares FROM packet_days WHERE account_id = $1 "     \
                      "AND day = $2")                                                        \
    X(PACKET_DAY_PUT, "INSERT INTO packet_days (account_id, day, n, total, squares) "        \
                      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, day) DO UPDATE " \
                      "SET n = excluded.n, total = excluded.total, squares = excluded.squares") \
    X(CODE_RUN_GET, "SELECT amount, run FROM code_runs WHERE code_id = $1")                  \
    X(CODE_RUN_PUT, "INSERT INTO code_runs (code_id, amount, run) VALUES ($1, $2, $3) "      \
                    "ON CONFLICT (code_id) DO UPDATE SET amount = excluded.amount, "         \
                    "run = excluded.run")
/* The ledger rows the audit verifier reads back (store_rows_page): the order key, the record
 * that wrote the row, then the columns no later command changes, integers then texts, in the
 * order engine/rows.c digests them. */
#define ROWS_TRANSFER_COLUMNS                                                               \
    "id, debit_id, credit_id, amount, kind, created_at, prev_debit, prev_credit, "          \
    "idem_key, currency, reference"
#define ROWS_ACCOUNT_COLUMNS "id, kind, tier, flags, created_at, owner, currency, region"
#define ROWS_PACKET_COLUMNS                                                                 \
    "id, sender_id, total, count, mode, fission, seed_id, allow_sender, created_at, "       \
    "expires_at, fund_transfer, currency, wishing, scene"
#define ROWS_CLAIM_COLUMNS "transfer_id, packet_id, seq, claimer_id, amount, claimed_at"
#define ROWS_PAYMENT_COLUMNS                                                                \
    "id, code_id, code_kind, payer_id, owner_id, credit_id, amount, fee, fee_rate_bp, "     \
    "settles, business_day, transfer_id, fee_transfer_id, created_at, currency, "           \
    "device, region, order_no"
#define ROWS_REFUND_COLUMNS                                                                 \
    "id, payment_id, amount, fee, source_id, transfer_id, fee_transfer_id, created_at"
#define ROWS_SETTLEMENT_COLUMNS                                                             \
    "id, merchant_id, day, gross, fees, refunds, net, count, transfer_id, created_at, "     \
    "currency"
#define ROWS_STATEMENTS(X)                                                                  \
    X(ROWS_TRANSFER_PAGE, "SELECT id, audit_seq, " ROWS_TRANSFER_COLUMNS                    \
                          " FROM transfers "                                                \
                          "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")         \
    X(ROWS_TRANSFER_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 "\
                           "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                           "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM transfers")                                \
    X(ROWS_ACCOUNT_PAGE, "SELECT id, audit_seq, " ROWS_ACCOUNT_COLUMNS " FROM accounts "    \
                         "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")          \
    X(ROWS_ACCOUNT_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 " \
                          "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                          "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM accounts")                                  \
    X(ROWS_PACKET_PAGE, "SELECT id, audit_seq, " ROWS_PACKET_COLUMNS " FROM packets "       \
                        "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")           \
    X(ROWS_PACKET_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 "  \
                         "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                         "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM packets")                                    \
    X(ROWS_CLAIM_PAGE, "SELECT transfer_id, audit_seq, " ROWS_CLAIM_COLUMNS                 \
                       " FROM claims "                                                      \
                       "WHERE audit_node = $1 AND transfer_id > $2 ORDER BY transfer_id LIMIT $3")\
    X(ROWS_CLAIM_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 "   \
                        "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN transfer_id END), 0), "\
                        "COALESCE(MIN(CASE WHEN audit_node <> '' THEN transfer_id END), 0) FROM claims")                                      \
    X(ROWS_PAYMENT_PAGE, "SELECT id, audit_seq, " ROWS_PAYMENT_COLUMNS " FROM payments "    \
                         "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")          \
    X(ROWS_PAYMENT_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 " \
                          "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                          "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM payments")                                  \
    X(ROWS_REFUND_PAGE, "SELECT id, audit_seq, " ROWS_REFUND_COLUMNS " FROM refunds "       \
                        "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")           \
    X(ROWS_REFUND_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 "  \
                         "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                         "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM refunds")                                    \
    X(ROWS_SETTLEMENT_PAGE, "SELECT id, audit_seq, " ROWS_SETTLEMENT_COLUMNS                \
                            " FROM settlements "                                            \
                            "WHERE audit_node = $1 AND id > $2 ORDER BY id LIMIT $3")       \
    X(ROWS_SETTLEMENT_COUNT, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN audit_node = '' THEN 1 "\
                             "ELSE 0 END), 0), COALESCE(MAX(CASE WHEN audit_node = '' THEN id END), 0), "\
                             "COALESCE(MIN(CASE WHEN audit_node <> '' THEN id END), 0) FROM settlements")

/* The columns later commands change, against the rows they derive from: the first packet
 * whose claimed or refunded totals differ, the first payment whose refunded totals differ,
 * the first settlement whose payment count differs or payment naming no settlement. */
#define DERIVED_STATEMENTS(X)                                                               \
    X(DERIVED_PACKET, "SELECT p.id FROM packets p LEFT JOIN (SELECT packet_id, COUNT(*) AS n, " \
                      "SUM(amount) AS total FROM claims GROUP BY packet_id) c "             \
                      "ON c.packet_id = p.id LEFT JOIN transfers t ON t.id = p.refund_transfer " \
                      "WHERE p.claimed_count <> COALESCE(c.n, 0) "                          \
                      "OR p.claimed_amount <> COALESCE(c.total, 0) "                        \
                      "OR p.refunded_amount <> COALESCE(t.amount, 0) "                      \
                      "ORDER BY p.id LIMIT 1")                                              \
    X(DERIVED_PAYMENT, "SELECT p.id FROM payments p LEFT JOIN (SELECT payment_id, "        \
                       "SUM(amount) AS amount, SUM(fee) AS fee FROM refunds "               \
                       "GROUP BY payment_id) r ON r.payment_id = p.id "                     \
                       "WHERE p.refunded <> COALESCE(r.amount, 0) "                         \
                       "OR p.refunded_fee <> COALESCE(r.fee, 0) ORDER BY p.id LIMIT 1")     \
    X(DERIVED_SETTLEMENT, "SELECT b.id FROM settlements b LEFT JOIN (SELECT settlement_id, " \
                          "COUNT(*) AS n FROM payments WHERE settlement_id <> 0 "           \
                          "GROUP BY settlement_id) p ON p.settlement_id = b.id "            \
                          "WHERE b.count <> COALESCE(p.n, 0) ORDER BY b.id LIMIT 1")        \
    X(DERIVED_UNSETTLED, "SELECT p.id FROM payments p WHERE p.settlement_id <> 0 AND NOT "  \
                         "EXISTS (SELECT 1 FROM settlements b WHERE b.id = p.settlement_id "\
                         "AND b.merchant_id = p.owner_id) ORDER BY p.id LIMIT 1")

#define STATEMENTS(X)                                                                        \
    X(SAVEPOINT, "SAVEPOINT cmd")                                                            \
    X(RELEASE, "RELEASE SAVEPOINT cmd")                                                      \
    X(ROLLBACK_TO, "ROLLBACK TO SAVEPOINT cmd")                                              \
    X(COMMIT, "COMMIT")                                                                      \
    X(ACCOUNT_INSERT, "INSERT INTO accounts (id, owner, kind, tier, currency, flags, status, " \
                      "restricted_until, created_at, real_name, region, audit_node, audit_seq) " \
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")                                        \
    X(BALANCE_INSERT, "INSERT INTO balances (account_id, balance) VALUES ($1, $2)")           \
    X(ACCOUNT_GET, "SELECT " ACCOUNT_COLUMNS " FROM accounts a JOIN balances b "             \
                   "ON b.account_id = a.id WHERE a.id = $1")                                 \
    X(ACCOUNT_LIST, "SELECT " ACCOUNT_COLUMNS " FROM accounts a JOIN balances b "            \
                    "ON b.account_id = a.id WHERE a.id > $1 ORDER BY a.id LIMIT $2")         \
    X(ACCOUNT_FIND_SYSTEM, "SELECT " ACCOUNT_COLUMNS " FROM accounts a JOIN balances b "     \
                           "ON b.account_id = a.id WHERE a.kind = $1 AND a.currency = $2 "  \
                           "AND a.tier = 0 ORDER BY a.id LIMIT 1")                           \
    X(ACCOUNT_SET_STATUS, "UPDATE accounts SET status = $2, restricted_until = $3 WHERE id = $1") \
    X(ACCOUNT_SET_REAL_NAME, "UPDATE accounts SET real_name = $2 WHERE id = $1")              \
    X(BALANCE_ADD, "UPDATE balances SET balance = balance + $2, day_debits = CASE WHEN "     \
                   "debit_day = $3 THEN day_debits + $4 ELSE $4 END, debit_day = $3, "       \
                   "year_debits = CASE WHEN debit_year = $8 THEN year_debits + $9 ELSE $9 END, " \
                   "debit_year = $8, last_transfer = $5 WHERE account_id = $1 "             \
                   "AND ($6 = 0 OR balance + $2 >= 0) AND ($7 = 0 OR balance + $2 <= 0)")    \
    X(BALANCE_GET, "SELECT balance, debit_day, day_debits, last_transfer, debit_year, "      \
                   "year_debits FROM balances WHERE account_id = $1")                       \
    X(ACCOUNT_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM accounts")                           \
    X(TRANSFER_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM transfers")                         \
    X(TRANSFER_INSERT, "INSERT INTO transfers (" TRANSFER_COLUMNS ", audit_node, audit_seq) " \
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")                     \
    X(TRANSFER_GET, "SELECT " TRANSFER_COLUMNS " FROM transfers WHERE id = $1")              \
    X(TRANSFER_COUNT, "SELECT COUNT(*) FROM transfers")                                      \
    X(TRANSFER_RANGE, "SELECT " TRANSFER_COLUMNS " FROM transfers WHERE created_at >= $1 "    \
                      "AND created_at < $2 AND id > $3 AND ($4 = 0 OR kind = $4 OR kind = $5) " \
                      "ORDER BY id LIMIT $6")                                                \
    X(IDEM_GET, "SELECT request_hash, result FROM idempotency WHERE scope = $1 AND key = $2") \
    X(IDEM_PUT, "INSERT INTO idempotency (scope, key, request_hash, result, created_at) "    \
                "VALUES ($1, $2, $3, $4, $5)")                                               \
    X(AUDIT_APPEND, "INSERT INTO audit (" AUDIT_COLUMNS ") VALUES "                          \
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")                        \
    X(AUDIT_LAST, "SELECT " AUDIT_COLUMNS " FROM audit WHERE node = $1 "                     \
                  "ORDER BY seq DESC LIMIT 1")                                               \
    X(AUDIT_GET, "SELECT " AUDIT_COLUMNS " FROM audit WHERE node = $1 AND seq = $2")         \
    X(AUDIT_OBJECT, "SELECT " AUDIT_COLUMNS " FROM audit WHERE object = $1 AND time >= $2 "  \
                    "ORDER BY time DESC, seq DESC LIMIT $3")                                 \
    X(AUDIT_BEFORE, "SELECT " AUDIT_COLUMNS " FROM audit WHERE node = $1 AND time < $2 "     \
                    "ORDER BY seq DESC LIMIT 1")                                             \
    X(AUDIT_DELETE_THROUGH, "DELETE FROM audit WHERE node = $1 AND seq <= $2")               \
    X(AUDIT_NODES, "SELECT DISTINCT node FROM audit WHERE node > $1 ORDER BY node LIMIT $2")  \
    X(AUDIT_PAGE, "SELECT " AUDIT_COLUMNS " FROM audit WHERE node = $1 AND seq > $2 "        \
                  "ORDER BY seq LIMIT $3")                                                   \
    X(CHECKPOINT_INSERT, "INSERT INTO audit_checkpoints (node, seq, hash, time, signature) " \
                         "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node, seq) DO NOTHING")   \
    X(CUT_INSERT, "INSERT INTO audit_cuts (node, seq, hash, time, signature) "               \
                  "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node, seq) DO NOTHING")          \
    X(CUT_PAGE, "SELECT node, seq, hash, time, signature FROM audit_cuts "                   \
                "WHERE node = $1 AND seq > $2 ORDER BY seq LIMIT $3")                        \
    X(CHECKPOINT_LAST, "SELECT node, seq, hash, time, signature FROM audit_checkpoints "     \
                       "WHERE node = $1 ORDER BY seq DESC LIMIT 1")                          \
    X(CHECKPOINT_PAGE, "SELECT node, seq, hash, time, signature FROM audit_checkpoints "     \
                       "WHERE node = $1 AND seq > $2 ORDER BY seq LIMIT $3")                 \
    X(CUSTOMER_INSERT, "INSERT INTO customers (" CUSTOMER_COLUMNS ") VALUES "                \
                       "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)") \
    X(CUSTOMER_GET, "SELECT " CUSTOMER_COLUMNS " FROM customers WHERE id = $1")              \
    X(CUSTOMER_SET_AGREEMENT, "UPDATE customers SET fee_rate_bp = $2, agreement_single = $3, "  \
                              "agreement_daily = $4, agreement_validity_s = $5, "             \
                              "agreement_crypto = $6, agreement_max_shares = $7 WHERE id = $1") \
    X(CUSTOMER_BY_PHONE, "SELECT " CUSTOMER_COLUMNS " FROM customers WHERE phone_hash = $3 "   \
                         "AND id > $1 ORDER BY id LIMIT $2")                                  \
    X(CUSTOMER_LIST, "SELECT " CUSTOMER_COLUMNS " FROM customers WHERE id > $1 "             \
                     "ORDER BY id LIMIT $2")                                                 \
    X(KEY_INSERT, "INSERT INTO api_keys (" KEY_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6)")  \
    X(KEY_GET, "SELECT " KEY_COLUMNS " FROM api_keys WHERE key_id = $1")                     \
    X(KEY_REVOKE, "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at = 0") \
    X(CUSTOMER_SET_BOXES, "UPDATE customers SET name_box = $2, phone_box = $3, "            \
                          "id_number_box = $4 WHERE id = $1")                                \
    X(KEY_SET_SECRET, "UPDATE api_keys SET secret_box = $2 WHERE key_id = $1")               \
    X(KEY_LIST, "SELECT " KEY_COLUMNS " FROM api_keys WHERE key_id > $1 ORDER BY key_id "    \
                "LIMIT $2")                                                                  \
    X(SESSION_INSERT, "INSERT INTO sessions (" SESSION_COLUMNS ") VALUES ($1, $2, $3, $4, $5, " \
                      "$6)")                                                                 \
    X(LOGIN_LINK_INSERT, "INSERT INTO login_links (token_hash, role, account_id, expires_at, " \
                         "used_at, created_at) VALUES ($1, $2, $3, $4, 0, $5)")             \
    X(LOGIN_LINK_USE, "UPDATE login_links SET used_at = $2 WHERE token_hash = $1 "           \
                      "AND used_at = 0 AND expires_at > $2")                                 \
    X(LOGIN_LINK_GET, "SELECT role, account_id, expires_at, used_at FROM login_links "      \
                      "WHERE token_hash = $1")                                               \
    X(SESSION_GET, "SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = $1")         \
    X(SESSION_REVOKE, "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 "           \
                      "AND revoked_at = 0")                                                  \
    X(NONCE_INSERT, "INSERT INTO nonces (key_id, nonce, ts) VALUES ($1, $2, $3) "            \
                    "ON CONFLICT DO NOTHING")                                                \
    X(NONCE_PRUNE, "DELETE FROM nonces WHERE ts < $1")                                       \
    X(META_GET, "SELECT value FROM meta WHERE key = $1")                                     \
    X(META_PUT, "INSERT INTO meta (key, value) VALUES ($1, $2) "                             \
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value")                    \
    X(PACKET_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM packets")                             \
    X(PACKET_INSERT, "INSERT INTO packets (" PACKET_COLUMNS ", audit_node, audit_seq) "    \
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, " \
                     "$16, $17, $18, $19, $20, $21, $22, $23)") \
    X(PACKET_GET, "SELECT " PACKET_COLUMNS " FROM packets WHERE id = $1")                    \
    /* CAST: PostgreSQL would type "$1 = 0" as integer and refuse ids past 2^31 */         \
    X(PACKET_LIST, "SELECT " PACKET_COLUMNS " FROM packets WHERE (CAST($1 AS BIGINT) = 0 "   \
                   "OR sender_id = CAST($1 AS BIGINT)) AND (CAST($2 AS BIGINT) = 0 "         \
                   "OR id < CAST($2 AS BIGINT)) ORDER BY id DESC LIMIT $3")                  \
    X(PACKET_SHARES_PUT, "INSERT INTO packet_shares (packet_id, chunk, amounts) "           \
                         "VALUES ($1, $2, $3)")                                              \
    /* what a claim needs in one query: the packet, the claimer's earlier claim, the chunk   \
     * holding the next share (256 = LIMIT_SHARE_CHUNK, checked at open) */                  \
    X(PACKET_CLAIM_VIEW, "SELECT " PACKET_COLUMNS_P ", c.transfer_id, s.amounts "            \
                         "FROM packets p LEFT JOIN claims c ON c.packet_id = p.id "          \
                         "AND c.claimer_id = $2 LEFT JOIN packet_shares s "                 \
                         "ON s.packet_id = p.id AND s.chunk = p.claimed_count / 256 "        \
                         "WHERE p.id = $1")                                                  \
    X(PACKET_CLAIMED, "UPDATE packets SET claimed_count = claimed_count + 1, "               \
                      "claimed_amount = claimed_amount + $3, status = $4, finished_at = $5 "  \
                      "WHERE id = $1 AND claimed_count = $2 AND status = 0")                 \
    X(PACKET_REFUNDED, "UPDATE packets SET status = 3, refunded_amount = $3, "               \
                       "refund_transfer = $4, finished_at = $5 "                             \
                       "WHERE id = $1 AND claimed_count = $2 AND status = 0")                \
    X(PACKET_EXPIRED_LIST, "SELECT id, expires_at FROM packets WHERE status = 0 "            \
                           "AND expires_at <= $1 AND (expires_at > $2 OR "                   \
                           "(expires_at = $2 AND id > $3)) ORDER BY expires_at, id LIMIT $4") \
    X(PACKET_OPEN_COUNT, "SELECT COUNT(*) FROM packets WHERE sender_id = $1 AND status = 0")  \
    X(CLAIM_INSERT, "INSERT INTO claims (" CLAIM_COLUMNS ", audit_node, audit_seq) "       \
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)") \
    X(CLAIM_FIND, "SELECT " CLAIM_COLUMNS " FROM claims WHERE packet_id = $1 AND claimer_id = $2") \
    X(CLAIM_GET, "SELECT " CLAIM_COLUMNS " FROM claims WHERE packet_id = $1 AND seq = $2")   \
    X(CLAIM_LIST, "SELECT " CLAIM_COLUMNS " FROM claims WHERE packet_id = $1 AND seq > $2 "  \
                  "ORDER BY seq LIMIT $3")                                                   \
    X(STATS_PACKETS, "SELECT COUNT(*), CAST(COALESCE(SUM(p.total), 0) AS BIGINT), "          \
                     "CAST(COALESCE(SUM(p.count), 0) AS BIGINT), "                           \
                     "CAST(COALESCE(SUM(p.claimed_count), 0) AS BIGINT), "                   \
                     "CAST(COALESCE(SUM(p.claimed_amount), 0) AS BIGINT), "                  \
                     "CAST(COALESCE(SUM(p.refunded_amount), 0) AS BIGINT) "                  \
                     "FROM packets p WHERE " PACKET_FILTER)                                  \
    X(STATS_HISTOGRAM, "SELECT CASE WHEN c.amount < 100 THEN 0 WHEN c.amount < 500 THEN 1 "  \
                       "WHEN c.amount < 1000 THEN 2 WHEN c.amount < 5000 THEN 3 "            \
                       "WHEN c.amount < 10000 THEN 4 WHEN c.amount < 20000 THEN 5 ELSE 6 END " \
                       "AS b, COUNT(*) FROM claims c JOIN packets p ON p.id = c.packet_id "  \
                       "WHERE " PACKET_FILTER " GROUP BY b ORDER BY b")                      \
    X(STATS_HOURS, "SELECT c.claimed_at / 3600000 AS h, COUNT(*), "                          \
                   "CAST(SUM(c.amount) AS BIGINT) FROM claims c "                            \
                   "JOIN packets p ON p.id = c.packet_id WHERE " PACKET_FILTER               \
                   " GROUP BY h ORDER BY h LIMIT 912")                                       \
    X(CODE_MAX_ID, "SELECT COALESCE(MAX(id), 0) FROM codes")                                 \
    X(CODE_INSERT, "INSERT INTO codes (" CODE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, " \
                   "$8, $9, $10, $11, $12, $13, $14, $15, $16)")                             \
    X(CODE_GET, "SELECT " CODE_COLUMNS " FROM codes WHERE id = $1")                          \
    X(CODE_FIND_ORDER, "SELECT " CODE_COLUMNS " FROM codes WHERE owner_id = $1 "             \
                       "AND order_no = $2 AND order_no <> ''")                               \
    X(CODE_END, "UPDATE codes SET status = $2, ended_at = $3 WHERE id = $1 AND status = 0")  \
    X(CHECK_ESCROW, "SELECT COUNT(*) FROM accounts a JOIN balances b ON b.account_id = a.id " \
                    "WHERE a.kind = 4 AND a.tier = 0 AND b.balance <> (SELECT "              \
                    "CAST(COALESCE(SUM(p.total - p.claimed_amount - p.refunded_amount), 0) " \
                    "AS BIGINT) FROM packets p WHERE p.currency = a.currency)")              \
    X(CHECK_COUNTS, "SELECT (SELECT COUNT(*) FROM accounts), "                               \
                    "(SELECT COUNT(*) FROM transfers), "                                     \
                    "(SELECT COUNT(*) FROM accounts a LEFT JOIN balances b "                 \
                    "ON b.account_id = a.id WHERE b.account_id IS NULL) + "                  \
                    "(SELECT COUNT(*) FROM balances b LEFT JOIN accounts a "                 \
                    "ON a.id = b.account_id WHERE a.id IS NULL)")                            \
    X(CHECK_BY_KIND, "SELECT a.currency, a.kind, CAST(SUM(b.balance) AS BIGINT), COUNT(*) FROM accounts a "  \
                     "JOIN balances b ON b.account_id = a.id GROUP BY a.currency, a.kind "   \
                     "ORDER BY a.currency, a.kind")                                          \
    X(CHECK_MISMATCH, "SELECT COUNT(*), COALESCE(MIN(id), 0) FROM ("                         \
                      "SELECT a.id AS id FROM accounts a JOIN balances b "                   \
                      "ON b.account_id = a.id "                                              \
                      "LEFT JOIN (SELECT credit_id AS id, CAST(SUM(amount) AS BIGINT) AS s FROM transfers "  \
                      "GROUP BY credit_id) c ON c.id = a.id "                                \
                      "LEFT JOIN (SELECT debit_id AS id, CAST(SUM(amount) AS BIGINT) AS s FROM transfers "   \
                      "GROUP BY debit_id) d ON d.id = a.id "                                 \
                      "WHERE b.balance <> COALESCE(c.s, 0) - COALESCE(d.s, 0)) m")           \
    X(CHECK_FLAGS, "SELECT COUNT(*) FROM accounts a JOIN balances b ON b.account_id = a.id " \
                   "WHERE ((a.flags & 1) <> 0 AND b.balance < 0) "                           \
                   "OR ((a.flags & 2) <> 0 AND b.balance > 0)")                              \
    X(CHECK_CURRENCY, "SELECT COUNT(*) FROM transfers t "                                    \
                      "LEFT JOIN accounts d ON d.id = t.debit_id "                           \
                      "LEFT JOIN accounts c ON c.id = t.credit_id "                          \
                      "WHERE d.id IS NULL OR c.id IS NULL OR d.currency <> t.currency "      \
                      "OR c.currency <> t.currency")                                        \
    PAY_STATEMENTS(X)                                                                        \
    RISK_STATEMENTS(X)                                                                       \
    ROWS_STATEMENTS(X)                                                                       \
    DERIVED_STATEMENTS(X)

#endif
