//! The central-ledger admin API (mojaloop.md §4): participants, hub accounts, participant
//! currency accounts, callback endpoints, initial positions and limits, limits, positions,
//! accounts with balances, settlement models, `/enums`, and funds in and out.
//!
//! Each route parses its body into ledger types (`fspiop::admin`), loads what it needs, asks
//! `ledger_core::admin` or `ledger_core::model`, and only then writes: a refused request changes
//! nothing. Funds actions are checked here and answered 202; the `admin` function does the
//! ledger work from the admin-transfer hub.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;
use fspiop::admin::{
    amount_number, endpoint_type, parse_account_id_param, parse_endpoint, parse_funds_finish, parse_funds_start,
    parse_funds_transfer_id_param, parse_hub_account, parse_initial_position_and_limits, parse_is_active,
    parse_limit_update, parse_limits_query, parse_name_param, parse_participant_create, parse_positions_query,
    parse_settlement_model, AccountBalanceBody, AccountBody, EndpointBody, FundsEvent, FundsRequest, LedgerQuery,
    LimitBody, LimitValue, Links, ParticipantBody, PositionBody, SettlementModelBody, DEFAULT_ALARM_PERCENTAGE,
    NET_DEBIT_CAP,
};
use fspiop::{hash_body, ErrorCode, FspiopError};
use ledger_core::account::{LedgerAccountType, NetDebitCap, Participant, HUB_NAME};
use ledger_core::admin::{
    accounts_for_new_currency, check_funds_account, check_new_hub_account, initial_position_accounts,
};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId};
use ledger_core::model::{ModelName, SettlementModel};
use ledger_core::rejection::{AdminRefusal, Rejection};
use ledger_store::{LedgerStore, StoreError};
use plumbing::publish::{Hub, OutgoingEvent};

use crate::envelope::{Action, Envelope, EventKind, Request, ENVELOPE_MEDIA_TYPE};
use crate::operator::http::{date, empty, json, ApiError, ApiResult};
use crate::operator::internal_transfer::hub_id;
use crate::state::App;

/// Who central-ledger records as the creator of rows made through the API.
const CREATED_BY: &str = "unknown";

/// The admin API's routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/participants", get(list_participants).post(create_participant))
        .route("/participants/limits", get(all_limits))
        .route("/participants/{name}", get(get_participant).put(update_participant))
        .route("/participants/{name}/endpoints", get(get_endpoints).post(set_endpoint))
        .route("/participants/{name}/initialPositionAndLimits", post(initial_position_and_limits))
        .route("/participants/{name}/limits", get(get_limits).put(update_limits))
        .route("/participants/{name}/positions", get(get_positions))
        .route("/participants/{name}/accounts", get(get_accounts).post(create_hub_account))
        .route("/participants/{name}/accounts/{id}", put(update_account).post(record_funds))
        .route("/participants/{name}/accounts/{id}/transfers/{transfer_id}", put(finish_funds_out))
        .route("/settlementModels", get(list_models).post(create_model))
        .route("/settlementModels/{name}", get(get_model).put(update_model))
        .route("/enums", get(enums))
}

fn refused(refusal: AdminRefusal) -> ApiError {
    ApiError::from(Rejection::Admin(refusal))
}

/// The `{name}` of a participant route, checked as central-ledger's schema checks it (before
/// the query and the body).
fn name_param(text: &str) -> Result<FspId, ApiError> {
    Ok(parse_name_param(text)?)
}

async fn participant_by_name(store: &dyn LedgerStore, name: &FspId) -> Result<Participant, ApiError> {
    store.participant(name).await?.ok_or_else(|| refused(AdminRefusal::ParticipantNotFound))
}

async fn hub(store: &dyn LedgerStore) -> Result<Participant, ApiError> {
    participant_by_name(store, &hub_id()).await
}

/// A currency central-ledger's schema left optional but its handler needs: without one its
/// database query fails (500, 2001).
fn required_currency(currency: Option<Currency>) -> Result<Currency, ApiError> {
    currency.ok_or_else(|| FspiopError::with_detail(ErrorCode::InternalServerError, "no currency given").into())
}

/// A limit type other than `NET_DEBIT_CAP` passes central-ledger's schema and then fails in its
/// database layer (no `participantLimitType` row): 500, 2001.
fn check_limit_type(kind: &str) -> Result<(), ApiError> {
    match kind == NET_DEBIT_CAP {
        true => Ok(()),
        false => Err(FspiopError::with_detail(
            ErrorCode::InternalServerError,
            format!("Participant limit type {kind} does not exist"),
        )
        .into()),
    }
}

fn host(headers: &HeaderMap) -> String {
    let host = headers.get("host").and_then(|it| it.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

fn participant_body(
    host: &str,
    participant: &Participant,
    created: ledger_core::time::Timestamp,
    accounts: &[ledger_store::operator::AccountBalance],
) -> ParticipantBody {
    let id = format!("{host}/participants/{}", participant.name);
    ParticipantBody {
        name: participant.name.to_string(),
        created: date(created),
        is_active: u8::from(participant.is_active),
        links: Links { self_link: id.clone() },
        id,
        accounts: accounts
            .iter()
            .map(|it| AccountBody {
                id: it.account.id.0,
                ledger_account_type: it.account.kind.name(),
                currency: it.account.currency.code().to_string(),
                is_active: u8::from(it.account.is_active),
                created_date: date(it.created),
                created_by: CREATED_BY,
            })
            .collect(),
        is_proxy: 0,
    }
}

async fn participant_answer(
    app: &App,
    headers: &HeaderMap,
    participant: &Participant,
    status: StatusCode,
) -> ApiResult {
    let created = app.store.participants_created().await?;
    let accounts = app.store.account_balances(participant.id).await?;
    let at = created.get(&participant.id).copied().unwrap_or((app.now)());
    json(status, &participant_body(&host(headers), participant, at, &accounts))
}

async fn list_participants(State(app): State<App>, headers: HeaderMap) -> ApiResult {
    let created = app.store.participants_created().await?;
    let mut bodies = Vec::new();
    for participant in app.store.participants().await? {
        let accounts = app.store.account_balances(participant.id).await?;
        let at = created.get(&participant.id).copied().unwrap_or((app.now)());
        bodies.push(participant_body(&host(&headers), &participant, at, &accounts));
    }
    json(StatusCode::OK, &bodies)
}

async fn get_participant(State(app): State<App>, headers: HeaderMap, Path(name): Path<String>) -> ApiResult {
    let name = name_param(&name)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    participant_answer(&app, &headers, &participant, StatusCode::OK).await
}

async fn create_participant(State(app): State<App>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let request = parse_participant_create(&body)?;
    let currency = required_currency(request.currency)?;
    let store = app.store.as_ref();
    let hub = hub(store).await?;
    let hub_accounts = store.accounts(hub.id).await?;
    let existing = store.participant(&request.name).await?;
    let accounts = match &existing {
        Some(it) => store.accounts(it.id).await?,
        None => Vec::new(),
    };
    let models = store.settlement_models().await?;
    let kinds = accounts_for_new_currency(&hub_accounts, &accounts, &models, currency)?;
    let now = (app.now)();
    let participant = match existing {
        Some(it) => it,
        None => store.create_participant(&request.name, now).await?,
    };
    for kind in kinds {
        store.create_account(participant.id, currency, kind, false, now).await?;
    }
    participant_answer(&app, &headers, &participant, StatusCode::CREATED).await
}

async fn update_participant(
    State(app): State<App>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let name = name_param(&name)?;
    let active = parse_is_active(&body)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    if participant.is_hub() {
        return Err(refused(AdminRefusal::HubNotModifiable));
    }
    app.store.set_participant_active(participant.id, active).await?;
    let participant = Participant { is_active: active, ..participant };
    participant_answer(&app, &headers, &participant, StatusCode::OK).await
}

async fn set_endpoint(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let name = name_param(&name)?;
    let (kind, value) = parse_endpoint(&body)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    // central-ledger finds no `endpointType` row for an unknown type and fails in its database
    // layer: 500 with 2001. Same code and status here, with a description that says why.
    let Some(kind) = endpoint_type(&kind) else {
        return Err(FspiopError::with_detail(
            ErrorCode::InternalServerError,
            format!("Endpoint type {kind} does not exist"),
        )
        .into());
    };
    match app.store.set_endpoint(participant.id, kind, &value, (app.now)()).await {
        Ok(()) => empty(StatusCode::CREATED),
        Err(StoreError::Invalid(detail)) => Err(FspiopError::with_detail(ErrorCode::MalformedSyntax, detail).into()),
        Err(err) => Err(err.into()),
    }
}

async fn get_endpoints(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = name_param(&name)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    let endpoints = app.store.endpoints(participant.id).await?;
    let bodies: Vec<EndpointBody> = endpoints.into_iter().map(|(kind, value)| EndpointBody { kind, value }).collect();
    match query.get("type") {
        Some(kind) => match bodies.into_iter().find(|it| &it.kind == kind) {
            Some(body) => json(StatusCode::OK, &body),
            None => json(StatusCode::OK, &serde_json::json!({})),
        },
        None => json(StatusCode::OK, &bodies),
    }
}

async fn initial_position_and_limits(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let name = name_param(&name)?;
    let request = parse_initial_position_and_limits(&body)?;
    let currency = required_currency(request.currency)?;
    let store = app.store.as_ref();
    let participant = participant_by_name(store, &name).await?;
    let accounts = store.accounts(participant.id).await?;
    let position = accounts.iter().find(|it| it.kind == LedgerAccountType::Position && it.currency == currency);
    let has_limit = match position {
        Some(it) => store.net_debit_cap(it.id).await?.is_some(),
        None => false,
    };
    let (position, settlement) = initial_position_accounts(&accounts, currency, has_limit)?;
    check_limit_type(&request.limit.kind)?;
    let cap = NetDebitCap::new(request.limit.value).expect("the schema refuses a negative cap");
    let now = (app.now)();
    // The limit is written last: it is what marks the currency as set up, so a request that
    // failed half-way (a store fault) can simply be sent again.
    store.set_account_active(position.id, true).await?;
    store.set_account_active(settlement.id, true).await?;
    if request.initial_position != Amount::ZERO {
        set_initial_position(store, position.id, request.initial_position, now).await?;
    }
    store.set_limit_alarm(position.id, Amount::from_whole(DEFAULT_ALARM_PERCENTAGE), now).await?;
    store.set_net_debit_cap(position.id, cap, now).await?;
    empty(StatusCode::CREATED)
}

/// central-ledger writes the initial position straight into the position row, with no journal
/// entry (there is no transfer it belongs to); this does the same.
async fn set_initial_position(
    store: &dyn LedgerStore,
    account: AccountId,
    value: Amount,
    now: ledger_core::time::Timestamp,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.lock_balances(&[account]).await?;
    tx.update_positions(&[(account, value)], now).await?;
    tx.commit().await
}

async fn limits_of(
    store: &dyn LedgerStore,
    participant: &Participant,
    query: &LedgerQuery,
    named: bool,
) -> Result<Vec<LimitBody>, ApiError> {
    if query.kind.as_ref().is_some_and(|it| it != NET_DEBIT_CAP) {
        return Ok(Vec::new());
    }
    let mut res = Vec::new();
    for account in store.accounts(participant.id).await? {
        if account.kind != LedgerAccountType::Position || query.currency.is_some_and(|it| it != account.currency) {
            continue;
        }
        let Some(cap) = store.net_debit_cap(account.id).await? else {
            continue;
        };
        let alarm = store.limit_alarm(account.id).await?.unwrap_or(Amount::from_whole(DEFAULT_ALARM_PERCENTAGE));
        res.push(limit_body(named.then(|| participant.name.to_string()), account.currency, cap.value(), alarm));
    }
    Ok(res)
}

fn limit_body(name: Option<String>, currency: Currency, value: Amount, alarm: Amount) -> LimitBody {
    let limit = LimitValue { kind: NET_DEBIT_CAP, value: amount_number(value), alarm_percentage: amount_number(alarm) };
    LimitBody { name, currency: currency.code().to_string(), limit }
}

async fn get_limits(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = name_param(&name)?;
    let query = parse_limits_query(&query)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    json(StatusCode::OK, &limits_of(app.store.as_ref(), &participant, &query, false).await?)
}

async fn all_limits(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    let query = parse_limits_query(&query)?;
    let mut res = Vec::new();
    for participant in app.store.participants().await? {
        res.extend(limits_of(app.store.as_ref(), &participant, &query, true).await?);
    }
    json(StatusCode::OK, &res)
}

async fn update_limits(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let name = name_param(&name)?;
    let request = parse_limit_update(&body)?;
    let currency = required_currency(request.currency)?;
    let store = app.store.as_ref();
    let participant = participant_by_name(store, &name).await?;
    let accounts = store.accounts(participant.id).await?;
    let account = accounts.iter().find(|it| it.kind == LedgerAccountType::Position && it.currency == currency);
    let Some(account) = account else {
        return Err(refused(AdminRefusal::NoLimitForCurrency));
    };
    if store.net_debit_cap(account.id).await?.is_none() {
        return Err(refused(AdminRefusal::NoLimitForCurrency));
    }
    check_limit_type(&request.limit.kind)?;
    let cap = NetDebitCap::new(request.limit.value).expect("the schema refuses a negative cap");
    let now = (app.now)();
    store.set_limit_alarm(account.id, request.alarm_percentage, now).await?;
    store.set_net_debit_cap(account.id, cap, now).await?;
    json(StatusCode::OK, &limit_body(None, currency, request.limit.value, request.alarm_percentage))
}

async fn get_positions(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = name_param(&name)?;
    let query = parse_positions_query(&query)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    let balances = app.store.account_balances(participant.id).await?;
    let positions: Vec<PositionBody> = balances
        .iter()
        .filter(|it| it.account.kind == LedgerAccountType::Position)
        .map(|it| PositionBody {
            currency: it.account.currency.code().to_string(),
            value: amount_number(it.value),
            changed_date: date(it.changed),
        })
        .collect();
    match query.currency {
        Some(currency) => match positions.into_iter().find(|it| it.currency == currency.code()) {
            Some(position) => json(StatusCode::OK, &position),
            None => json(StatusCode::OK, &serde_json::json!({})),
        },
        None => json(StatusCode::OK, &positions),
    }
}

async fn get_accounts(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let name = name_param(&name)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    let balances = app.store.account_balances(participant.id).await?;
    let bodies: Vec<AccountBalanceBody> = balances
        .iter()
        .filter(|it| query.get("currency").is_none_or(|code| code == it.account.currency.code()))
        .map(|it| AccountBalanceBody {
            id: it.account.id.0,
            ledger_account_type: it.account.kind.name(),
            currency: it.account.currency.code().to_string(),
            is_active: u8::from(it.account.is_active),
            value: amount_number(it.value),
            reserved_value: amount_number(it.reserved),
            changed_date: date(it.changed),
        })
        .collect();
    json(StatusCode::OK, &bodies)
}

async fn create_hub_account(
    State(app): State<App>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let name = name_param(&name)?;
    let (currency, kind) = parse_hub_account(&body)?;
    let store = app.store.as_ref();
    let participant = participant_by_name(store, &name).await?;
    let Some(kind) = kind else {
        return Err(refused(AdminRefusal::LedgerAccountTypeNotFound));
    };
    let currency = required_currency(currency)?;
    let accounts = store.accounts(participant.id).await?;
    check_new_hub_account(&participant, &accounts, kind, currency)?;
    store.create_account(participant.id, currency, kind, true, (app.now)()).await?;
    participant_answer(&app, &headers, &participant, StatusCode::CREATED).await
}

async fn update_account(State(app): State<App>, Path((name, id)): Path<(String, String)>, body: Bytes) -> ApiResult {
    let name = name_param(&name)?;
    let id = parse_account_id_param(&id)?;
    let active = parse_is_active(&body)?;
    let participant = participant_by_name(app.store.as_ref(), &name).await?;
    let accounts = app.store.accounts(participant.id).await?;
    let Some(account) = accounts.iter().find(|it| it.id == id) else {
        return Err(refused(AdminRefusal::AccountNotFound));
    };
    if account.kind != LedgerAccountType::Position {
        return Err(refused(AdminRefusal::OnlyPositionAccountUpdate));
    }
    app.store.set_account_active(id, active).await?;
    empty(StatusCode::OK)
}

async fn record_funds(State(app): State<App>, Path((name, id)): Path<(String, String)>, body: Bytes) -> ApiResult {
    let name = name_param(&name)?;
    let id = parse_account_id_param(&id)?;
    let start = parse_funds_start(&body)?;
    let (participant, currency) = funds_account(&app, &name, id, start.currency).await?;
    publish_funds(&app, &participant, id, start.request(currency), &body).await
}

/// Commits or aborts a funds out. A body without `action` passes central-ledger's schema and
/// then changes nothing: answered 202 once the account is checked, with nothing to publish.
async fn finish_funds_out(
    State(app): State<App>,
    Path((name, id, transfer_id)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let name = name_param(&name)?;
    let id = parse_account_id_param(&id)?;
    let transfer_id = parse_funds_transfer_id_param(&transfer_id)?;
    let request = parse_funds_finish(&body, transfer_id)?;
    let (participant, _) = funds_account(&app, &name, id, None).await?;
    match request {
        Some(request) => publish_funds(&app, &participant, id, request, &body).await,
        None => empty(StatusCode::ACCEPTED),
    }
}

/// The participant and currency of a funds action, once the account is one funds may move on:
/// the amount's currency, else (central-ledger then matches the account by id alone) the
/// account's own.
async fn funds_account(
    app: &App,
    name: &FspId,
    id: AccountId,
    currency: Option<Currency>,
) -> Result<(Participant, Currency), ApiError> {
    let participant = participant_by_name(app.store.as_ref(), name).await?;
    let accounts = app.store.accounts(participant.id).await?;
    let currency = match (currency, accounts.iter().find(|it| it.id == id)) {
        (Some(currency), _) => currency,
        (None, Some(account)) => account.currency,
        (None, None) => return Err(refused(AdminRefusal::AccountNotFound)),
    };
    check_funds_account(&participant, &accounts, id, currency)?;
    Ok((participant, currency))
}

/// Hands a checked funds action to the admin function.
async fn publish_funds(
    app: &App,
    participant: &Participant,
    id: AccountId,
    request: FundsRequest,
    body: &[u8],
) -> ApiResult {
    let hash = hash_body(body)?;
    let event = FundsEvent::new(&participant.name, id, &request, &hash).to_json();
    let headers = std::collections::BTreeMap::from([("content-type".to_string(), ENVELOPE_MEDIA_TYPE.to_string())]);
    let transfer_id = request.transfer_id.as_str();
    let envelope_request = Request {
        transfer_id,
        from: HUB_NAME,
        to: participant.name.as_str(),
        headers: &headers,
        content_type: ENVELOPE_MEDIA_TYPE,
        body: event.as_bytes(),
    };
    let envelope = Envelope::request(envelope_request, EventKind::Admin, Action::RecordFunds, (app.now)());
    // Keyed by the account, so the actions on one account are processed in order.
    let outgoing = OutgoingEvent::keyed(id.to_string(), envelope.to_json());
    match app.publisher.publish(Hub::AdminTransfer, vec![outgoing]).await {
        Ok(()) => empty(StatusCode::ACCEPTED),
        Err(err) => {
            tracing::warn!(error = %err, "funds action not published");
            Err(FspiopError::with_detail(ErrorCode::InternalServerError, "the admin-transfer hub is unavailable")
                .into())
        }
    }
}

fn model_body(model: &SettlementModel) -> SettlementModelBody {
    let it = &model.definition;
    SettlementModelBody {
        settlement_model_id: model.id.0,
        name: it.name.as_str().to_string(),
        is_active: u8::from(model.is_active),
        settlement_granularity: it.granularity.name(),
        settlement_interchange: it.interchange.name(),
        settlement_delay: it.delay.name(),
        currency: it.currency.map(|it| it.code().to_string()),
        require_liquidity_check: u8::from(it.require_liquidity_check),
        ledger_account_type: it.ledger_account_type.name(),
        settlement_account_type: it.settlement_account_type.name(),
        auto_position_reset: u8::from(it.auto_position_reset),
    }
}

async fn list_models(State(app): State<App>) -> ApiResult {
    let models = app.store.settlement_models().await?;
    json(StatusCode::OK, &models.iter().map(model_body).collect::<Vec<_>>())
}

async fn model_by_name(store: &dyn LedgerStore, name: &str) -> Result<SettlementModel, ApiError> {
    let name = ModelName::parse(name).ok_or_else(|| refused(AdminRefusal::ModelNotFound))?;
    let models = store.settlement_models().await?;
    models.into_iter().find(|it| it.definition.name == name).ok_or_else(|| refused(AdminRefusal::ModelNotFound))
}

async fn get_model(State(app): State<App>, Path(name): Path<String>) -> ApiResult {
    json(StatusCode::OK, &model_body(&model_by_name(app.store.as_ref(), &name).await?))
}

async fn create_model(State(app): State<App>, body: Bytes) -> ApiResult {
    let request = parse_settlement_model(&body)?;
    // central-ledger checks the combination first, then looks the account type up (3003).
    if !request.definition(LedgerAccountType::Position).is_valid_combination() {
        return Err(refused(AdminRefusal::InvalidModel));
    }
    let Some(ledger_account_type) = request.ledger_account_type else {
        return Err(refused(AdminRefusal::LedgerAccountTypeNotFound));
    };
    let definition = request.definition(ledger_account_type);
    let models = app.store.settlement_models().await?;
    if models.iter().any(|it| it.definition.name == definition.name) {
        return Err(refused(AdminRefusal::ModelExists));
    }
    let same_scope = |it: &&SettlementModel| {
        it.definition.currency == definition.currency
            && it.definition.ledger_account_type == definition.ledger_account_type
    };
    if models.iter().any(|it| same_scope(&it)) {
        return Err(refused(AdminRefusal::ModelConflict));
    }
    match app.store.create_settlement_model(&definition, (app.now)()).await {
        Ok(_) => empty(StatusCode::CREATED),
        // A concurrent request took the name between the check and the insert.
        Err(StoreError::Conflict(_)) => Err(refused(AdminRefusal::ModelExists)),
        Err(err) => Err(err.into()),
    }
}

async fn update_model(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let active = parse_is_active(&body)?;
    let model = model_by_name(app.store.as_ref(), &name).await?;
    app.store.set_settlement_model_active(model.id, active).await?;
    json(StatusCode::OK, &model_body(&SettlementModel { is_active: active, ..model }))
}

async fn enums() -> ApiResult {
    json(StatusCode::OK, &fspiop::admin::enums_body())
}
