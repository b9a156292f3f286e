//! The admin API end to end over real HTTP, on both stores: a scheme provisioned from nothing
//! (hub accounts, settlement model, participants, limits, endpoints), funds in and out through
//! the admin-transfer hub and the admin function (also redelivered), and refused requests that
//! change nothing.

mod operator_support;
mod support;

use std::sync::Arc;

use ledger_store::LedgerStore;
use operator_support::{funds, provision, start, transfer_id, Switch};
use serde_json::{json, Value};
use support::NOW;

fn fixed_now() -> ledger_core::time::Timestamp {
    NOW
}

async fn finish_funds_out(switch: &Switch, name: &str, id: &str, action: &str) {
    let account = switch.account_id(name, "SETTLEMENT", "USD").await;
    let body = json!({"action": action, "reason": "done"});
    let (status, answer) =
        switch.call("PUT", &format!("/participants/{name}/accounts/{account}/transfers/{id}"), Some(body)).await;
    assert_eq!(status, 202, "{answer}");
    switch.pump().await;
}

async fn a_scheme_is_provisioned_from_nothing(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    // Without hub accounts a participant cannot be created.
    switch.refused("POST", "/participants", Some(json!({"name": "payerfsp", "currency": "USD"})), 400, "3003").await;
    for kind in ["HUB_MULTILATERAL_SETTLEMENT", "HUB_RECONCILIATION"] {
        assert_eq!(
            switch.call("POST", "/participants/Hub/accounts", Some(json!({"currency": "USD", "type": kind}))).await.0,
            201
        );
    }
    switch
        .refused(
            "POST",
            "/participants/Hub/accounts",
            Some(json!({"currency": "USD", "type": "HUB_RECONCILIATION"})),
            400,
            "3003",
        )
        .await;
    // Without a settlement model either.
    switch.refused("POST", "/participants", Some(json!({"name": "payerfsp", "currency": "USD"})), 400, "6000").await;
    let (status, participants) = switch.call("GET", "/participants", None).await;
    assert_eq!((status, participants.as_array().unwrap().len()), (200, 1), "only the Hub: {participants}");
    let model = json!({
        "name": "DEFERREDNETUSD", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "currency": "USD", "requireLiquidityCheck": true, "ledgerAccountType": "POSITION",
        "autoPositionReset": true, "settlementAccountType": "SETTLEMENT"
    });
    assert_eq!(switch.call("POST", "/settlementModels", Some(model.clone())).await.0, 201);
    switch.refused("POST", "/settlementModels", Some(model), 400, "3000").await;
    let (status, created) =
        switch.call("POST", "/participants", Some(json!({"name": "payerfsp", "currency": "USD"}))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "payerfsp");
    let kinds: Vec<(&str, u64)> = created["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| (it["ledgerAccountType"].as_str().unwrap(), it["isActive"].as_u64().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("POSITION", 0), ("SETTLEMENT", 0)], "created inactive");
    switch.refused("POST", "/participants", Some(json!({"name": "payerfsp", "currency": "USD"})), 400, "3000").await;
    let limits = json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 1000000}, "initialPosition": 0});
    assert_eq!(
        switch.call("POST", "/participants/payerfsp/initialPositionAndLimits", Some(limits.clone())).await.0,
        201
    );
    switch.refused("POST", "/participants/payerfsp/initialPositionAndLimits", Some(limits), 500, "2001").await;
    let (_, accounts) = switch.call("GET", "/participants/payerfsp/accounts", None).await;
    assert!(accounts.as_array().unwrap().iter().all(|it| it["isActive"] == 1 && it["value"] == 0), "{accounts}");
    let (_, limits) = switch.call("GET", "/participants/payerfsp/limits", None).await;
    assert_eq!(
        limits,
        json!([{"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 1000000, "alarmPercentage": 10}}])
    );
    let update = json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 5000.5, "alarmPercentage": 20}});
    let (status, updated) = switch.call("PUT", "/participants/payerfsp/limits", Some(update)).await;
    assert_eq!((status, &updated["limit"]["value"]), (200, &json!(5000.5)));
    let (_, all) = switch.call("GET", "/participants/limits", None).await;
    assert_eq!(all[0]["name"], "payerfsp");
    let endpoint = json!({"type": "FSPIOP_CALLBACK_URL_TRANSFER_PUT", "value": "http://dfsp/transfers/{{transferId}}"});
    assert_eq!(switch.call("POST", "/participants/payerfsp/endpoints", Some(endpoint)).await.0, 201);
    let (_, endpoints) = switch.call("GET", "/participants/payerfsp/endpoints", None).await;
    assert_eq!(
        endpoints,
        json!([{"type": "FSPIOP_CALLBACK_URL_TRANSFER_PUT", "value": "http://dfsp/transfers/{{transferId}}"}])
    );
    let (_, positions) = switch.call("GET", "/participants/payerfsp/positions?currency=USD", None).await;
    assert_eq!(positions["value"], 0);
    // Deactivate and activate the participant and its position account.
    let (status, participant) = switch.call("PUT", "/participants/payerfsp", Some(json!({"isActive": false}))).await;
    assert_eq!((status, &participant["isActive"]), (200, &json!(0)));
    assert_eq!(switch.call("PUT", "/participants/payerfsp", Some(json!({"isActive": true}))).await.0, 200);
    let position = switch.account_id("payerfsp", "POSITION", "USD").await;
    let settlement = switch.account_id("payerfsp", "SETTLEMENT", "USD").await;
    assert_eq!(
        switch
            .call("PUT", &format!("/participants/payerfsp/accounts/{position}"), Some(json!({"isActive": true})))
            .await
            .0,
        200
    );
    switch
        .refused(
            "PUT",
            &format!("/participants/payerfsp/accounts/{settlement}"),
            Some(json!({"isActive": false})),
            400,
            "3000",
        )
        .await;
    let (_, enums) = switch.call("GET", "/enums", None).await;
    assert_eq!(enums["ledgerAccountType"]["HUB_MULTILATERAL_SETTLEMENT"], 4);
    let (_, models) = switch.call("GET", "/settlementModels", None).await;
    assert_eq!(models[0]["name"], "DEFERREDNETUSD");
}

async fn funds_move_between_the_settlement_and_the_hub_accounts(store: Arc<dyn LedgerStore>) {
    let switch = start(store.clone(), fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    let funds_in = funds(&switch, "payerfsp", "recordFundsIn", "1000").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-1000");
    assert_eq!(switch.balance("Hub", "HUB_RECONCILIATION", "USD").await, "1000");
    let stored = store.transfer(&ledger_core::ids::TransferId::parse(&funds_in).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.current.state.name(), "COMMITTED");
    // Funds out: reserve, then commit.
    let out = funds(&switch, "payerfsp", "recordFundsOutPrepareReserve", "100.5").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-899.5");
    assert_eq!(switch.balance("Hub", "HUB_RECONCILIATION", "USD").await, "1000");
    finish_funds_out(&switch, "payerfsp", &out, "recordFundsOutCommit").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-899.5");
    assert_eq!(switch.balance("Hub", "HUB_RECONCILIATION", "USD").await, "899.5");
    // Funds out: reserve, then abort.
    let out = funds(&switch, "payerfsp", "recordFundsOutPrepareReserve", "50").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-849.5");
    finish_funds_out(&switch, "payerfsp", &out, "recordFundsOutAbort").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-899.5");
    // More than the balance: reserved and reversed at once.
    let too_much = funds(&switch, "payerfsp", "recordFundsOutPrepareReserve", "5000").await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-899.5");
    let stored = store.transfer(&ledger_core::ids::TransferId::parse(&too_much).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.current.state.name(), "ABORTED_REJECTED");
    // Every balance move is journaled with its running value.
    let account = ledger_core::ids::AccountId(switch.account_id("payerfsp", "SETTLEMENT", "USD").await);
    let journal = store.position_journal(account).await.unwrap();
    assert_eq!(journal.last().unwrap().2.to_fspiop_string(), "-899.5");
    assert_eq!(journal.len(), 6, "{journal:?}");
}

async fn a_redelivered_admin_batch_changes_nothing(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    funds(&switch, "payerfsp", "recordFundsIn", "1000").await;
    let out = funds(&switch, "payerfsp", "recordFundsOutPrepareReserve", "100").await;
    finish_funds_out(&switch, "payerfsp", &out, "recordFundsOutCommit").await;
    let before = (
        switch.balance("payerfsp", "SETTLEMENT", "USD").await,
        switch.balance("Hub", "HUB_RECONCILIATION", "USD").await,
    );
    let batches: Vec<Vec<String>> =
        switch.delivered.lock().unwrap().iter().filter(|(f, _)| f == "admin").map(|(_, it)| it.clone()).collect();
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        let keys = vec![None; batch.len()];
        switch.invoke("admin", batch, &keys).await;
    }
    // All three in one batch as well.
    let all: Vec<String> = batches.concat();
    switch.invoke("admin", &all, &vec![None; all.len()]).await;
    assert!(switch.hubs.lock().unwrap().is_empty(), "the admin function emits nothing");
    let after = (
        switch.balance("payerfsp", "SETTLEMENT", "USD").await,
        switch.balance("Hub", "HUB_RECONCILIATION", "USD").await,
    );
    assert_eq!(after, before);
    assert_eq!(before, ("-900".to_string(), "900".to_string()));
}

async fn a_batch_with_several_actions_on_one_account_sees_running_balances(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    let account = switch.account_id("payerfsp", "SETTLEMENT", "USD").await;
    for (action, amount) in
        [("recordFundsIn", "300"), ("recordFundsOutPrepareReserve", "200"), ("recordFundsOutPrepareReserve", "200")]
    {
        let body = json!({"transferId": transfer_id(), "externalReference": "r", "action": action, "reason": "r", "amount": {"amount": amount, "currency": "USD"}});
        assert_eq!(switch.call("POST", &format!("/participants/payerfsp/accounts/{account}"), Some(body)).await.0, 202);
    }
    // One pump round delivers the three events as one batch.
    switch.pump().await;
    assert_eq!(
        switch.balance("payerfsp", "SETTLEMENT", "USD").await,
        "-100",
        "the second reservation exceeds what is left"
    );
}

async fn bad_requests_get_mojaloops_codes_and_change_nothing(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    let settlement = switch.account_id("payerfsp", "SETTLEMENT", "USD").await;
    let position = switch.account_id("payerfsp", "POSITION", "USD").await;
    let before: Value = switch.call("GET", "/participants", None).await.1;
    switch.refused("GET", "/participants/nobody", None, 400, "3200").await;
    // central-ledger fails every Joi check of its admin API as 3101.
    switch.refused("POST", "/participants", Some(json!({"currency": "USD"})), 400, "3101").await;
    switch.refused("POST", "/participants", Some(json!({"name": 7, "currency": "USD"})), 400, "3101").await;
    switch.refused("POST", "/participants", Some(json!({"name": "x", "currency": "USD"})), 400, "3101").await;
    switch
        .refused(
            "POST",
            "/participants",
            Some(json!({"name": "newfsp", "currency": "USD", "colour": "red"})),
            400,
            "3101",
        )
        .await;
    switch.refused("POST", "/participants", Some(json!({"name": "newfsp", "currency": "US"})), 400, "3101").await;
    // A body hapi cannot parse is a 400 Boom, which becomes 3000.
    let (status, answer) = switch.call_raw("POST", "/participants", "{not json").await;
    assert_eq!((status, answer["errorInformation"]["errorCode"].as_str()), (400, Some("3000")));
    switch
        .refused("POST", "/participants/payerfsp/endpoints", Some(json!({"type": "NOPE", "value": "x"})), 500, "2001")
        .await;
    switch
        .refused(
            "PUT",
            "/participants/payerfsp/limits",
            Some(json!({"currency": "EUR", "limit": {"type": "NET_DEBIT_CAP", "value": 1, "alarmPercentage": 10}})),
            500,
            "2001",
        )
        .await;
    switch
        .refused(
            "PUT",
            "/participants/payerfsp/limits",
            Some(json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": -1, "alarmPercentage": 10}})),
            400,
            "3101",
        )
        .await;
    let funds_body = |action: &str, amount: &str| json!({"transferId": transfer_id(), "externalReference": "r", "action": action, "reason": "r", "amount": {"amount": amount, "currency": "USD"}});
    switch
        .refused(
            "POST",
            &format!("/participants/payerfsp/accounts/{position}"),
            Some(funds_body("recordFundsIn", "10")),
            500,
            "2001",
        )
        .await;
    switch
        .refused(
            "POST",
            &format!("/participants/payerfsp/accounts/{settlement}"),
            Some(funds_body("recordFundsIn", "-10")),
            400,
            "3101",
        )
        .await;
    switch
        .refused(
            "POST",
            &format!("/participants/payerfsp/accounts/{settlement}"),
            Some(funds_body("recordFundsIn", "0")),
            400,
            "3101",
        )
        .await;
    switch
        .refused(
            "POST",
            &format!("/participants/payerfsp/accounts/{settlement}"),
            Some(funds_body("recordFundsOutCommit", "10")),
            400,
            "3101",
        )
        .await;
    switch
        .refused("POST", "/participants/payerfsp/accounts/999999", Some(funds_body("recordFundsIn", "10")), 400, "3200")
        .await;
    switch
        .refused("POST", "/participants/payerfsp/accounts/abc", Some(funds_body("recordFundsIn", "10")), 400, "3101")
        .await;
    switch
        .refused("POST", "/participants/payerfsp/accounts/0", Some(funds_body("recordFundsIn", "10")), 400, "3101")
        .await;
    switch.refused("POST", "/settlementModels", Some(json!({"name": "X"})), 400, "3101").await;
    let invalid_model = json!({
        "name": "IMMEDIATENET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "IMMEDIATE", "currency": "EUR", "requireLiquidityCheck": true, "ledgerAccountType": "POSITION",
        "autoPositionReset": true, "settlementAccountType": "SETTLEMENT"
    });
    switch.refused("POST", "/settlementModels", Some(invalid_model), 400, "3000").await;
    switch.refused("GET", "/settlementModels/NOPE", None, 400, "3200").await;
    assert!(switch.hubs.lock().unwrap().is_empty(), "nothing was published");
    assert_eq!(switch.call("GET", "/participants", None).await.1, before, "nothing changed");
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "0");
}

on_both_stores!(
    a_scheme_is_provisioned_from_nothing,
    funds_move_between_the_settlement_and_the_hub_accounts,
    a_redelivered_admin_batch_changes_nothing,
    a_batch_with_several_actions_on_one_account_sees_running_balances,
    bad_requests_get_mojaloops_codes_and_change_nothing,
);
