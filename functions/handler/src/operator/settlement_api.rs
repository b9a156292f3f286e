//! The central-settlement v2 API (mojaloop.md §5): settlement windows (list, get, close),
//! settlements (create from windows, list, get), account state steps with their position
//! resets against HUB_MULTILATERAL_SETTLEMENT, and the designed abort.
//!
//! Every write is one transaction: load under lock, ask `ledger_core::settlement`, write the
//! journal rows (settlement, account, content and window states, settlement transfers with
//! their position changes), commit. A refused request writes nothing.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use fspiop::admin::amount_number;
use fspiop::joi::JoiNumber;
use fspiop::settlement::{
    parse_account_update, parse_id_param, parse_participant_update, parse_settlement_create, parse_settlement_update,
    parse_settlements_query, parse_window_close, parse_window_query, AccountStateRequest, ContentBody, ListQuery,
    NetAmount, SettlementAccountBody, SettlementBody, SettlementParticipantBody, SettlementUpdate,
    SettlementUpdateBody, SettlementWindowBody, WindowBody, SETTLEMENT_FILTERS, WINDOW_FILTERS,
};
use fspiop::{ErrorCode, FspiopError};
use ledger_core::account::HUB_NAME;
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::model::SettlementModel;
use ledger_core::rejection::{Rejection, SettlementRefusal};
use ledger_core::settlement::{
    check_abort, decide_updates, plan_settlement, settled_contents, settled_windows, AccountUpdate, AccountView,
    ContentView, SettlementId, SettlementPlan, SettlementState, TransferStep, UpdateRefusal, WindowView,
};
use ledger_core::time::Timestamp;
use ledger_core::window::{check_close, CloseRefusal, WindowState};
use ledger_store::operator::{NewContentState, NewSettlement, NewSettlementState, SettlementRecord, WindowRecord};
use ledger_store::{LedgerTx, StoreError};
use plumbing::publish::{Hub, OutgoingEvent};

use crate::envelope::{Action, Envelope, EventKind, Request, ENVELOPE_MEDIA_TYPE};
use crate::operator::http::{date, json, ApiError, ApiResult};
use crate::operator::settlement::CloseEvent;
use crate::operator::settlement_transfer::{run_transfer_steps, StepRequest};
use crate::state::App;

/// The settlement API's routes (the host proxies `/v2/...` at its original path).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/v2/settlementWindows", get(list_windows))
        .route("/v2/settlementWindows/{id}", get(get_window).post(close_window))
        .route("/v2/settlements", get(list_settlements).post(create_settlement))
        .route("/v2/settlements/{id}", get(get_settlement).put(update_settlement))
        .route("/v2/settlements/{id}/participants/{pid}", get(get_participant).put(update_participant))
        .route("/v2/settlements/{id}/participants/{pid}/accounts/{aid}", get(get_account).put(update_account))
}

fn refused(refusal: SettlementRefusal) -> ApiError {
    ApiError::from(Rejection::Settlement(refusal))
}

fn content_body(it: &ledger_store::operator::ContentRecord) -> ContentBody {
    ContentBody {
        id: it.id.0,
        state: it.state.name(),
        ledger_account_type: it.kind.name(),
        currency_id: it.currency.code().to_string(),
        created_date: date(it.created),
        changed_date: date(it.changed),
        settlement_id: it.settlement.map(|it| it.0),
    }
}

fn window_body(it: &WindowRecord) -> WindowBody {
    WindowBody {
        settlement_window_id: it.window.id.0,
        state: it.window.state.name(),
        reason: it.reason.clone(),
        created_date: date(it.window.created),
        changed_date: date(it.changed),
        content: it.contents.iter().map(content_body).collect(),
    }
}

fn window_view(it: &WindowRecord) -> WindowView {
    let contents = it
        .contents
        .iter()
        .map(|content| ContentView {
            id: content.id,
            model: content.model,
            state: content.state,
            aggregations: content.aggregations.clone(),
        })
        .collect();
    WindowView { id: it.window.id, state: it.window.state, contents }
}

fn account_views(it: &SettlementRecord) -> Vec<AccountView> {
    it.accounts
        .iter()
        .map(|account| AccountView {
            account: account.account,
            participant: account.participant,
            net: account.net,
            state: account.state,
        })
        .collect()
}

/// An id of the request as a stored id: the API takes zero and negative ids, which name nothing.
fn stored_id(id: i64) -> Option<u64> {
    u64::try_from(id).ok().filter(|it| 0 < *it)
}

/// The filters of a list request; at least one is required.
fn require_filters(query: &ListQuery, allowed: &[&str]) -> Result<(), ApiError> {
    match query.given.is_empty() {
        false => Ok(()),
        true => Err(FspiopError::with_detail(
            ErrorCode::ValidationError,
            format!("Use at least one parameter: {}", allowed.join(", ")),
        )
        .into()),
    }
}

/// The filters as central-settlement prints them when nothing matches: its query object,
/// stringified.
fn filters_json(query: &ListQuery) -> String {
    serde_json::to_string(&query.given).expect("filters serialise")
}

async fn list_windows(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    let query = parse_window_query(&query)?;
    require_filters(&query, &WINDOW_FILTERS)?;
    let windows = app.store.windows(None).await?;
    let matching: Vec<WindowBody> = windows
        .iter()
        .filter(|it| query.state.as_ref().is_none_or(|state| state == it.window.state.name()))
        .filter(|it| {
            query.from.is_none_or(|from| from <= it.window.created) && query.to.is_none_or(|to| it.window.created <= to)
        })
        .filter(|it| query.currency.as_ref().is_none_or(|code| it.contents.iter().any(|c| c.currency.code() == code)))
        .filter(|it| {
            query.participant_id.is_none_or(|p| {
                it.contents.iter().any(|c| c.aggregations.iter().any(|a| Some(a.participant.0) == stored_id(p)))
            })
        })
        .map(window_body)
        .collect();
    if matching.is_empty() {
        return Err(refused(SettlementRefusal::NoMatch(format!(
            "settlementWindow by filters: {} not found",
            filters_json(&query).replace('"', "")
        ))));
    }
    json(StatusCode::OK, &matching)
}

async fn window_record(app: &App, id: i64) -> Result<WindowRecord, ApiError> {
    let not_found = || refused(SettlementRefusal::WindowNotFound(id));
    let Some(stored) = stored_id(id) else {
        return Err(not_found());
    };
    window_by_id(app, WindowId(stored)).await?.ok_or_else(not_found)
}

async fn window_by_id(app: &App, id: WindowId) -> Result<Option<WindowRecord>, ApiError> {
    Ok(app.store.windows(Some(&[id])).await?.pop())
}

async fn get_window(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let id = parse_id_param(&id, "id")?;
    json(StatusCode::OK, &window_body(&window_record(&app, id).await?))
}

/// Closes the OPEN window: PROCESSING at once, the next window OPEN, the aggregation left to
/// the settlement function. Answers the new OPEN window.
async fn close_window(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let requested = parse_id_param(&id, "id")?;
    let reason = parse_window_close(&body)?;
    let not_found = || refused(SettlementRefusal::WindowNotFound(requested));
    let id = WindowId(stored_id(requested).ok_or_else(not_found)?);
    let now = (app.now)();
    let mut tx = app.store.begin().await?;
    let window = tx.windows_for_update(&[id]).await?.pop().ok_or_else(not_found)?;
    let n_fulfilments = tx.window_fulfilment_count(id).await?;
    match check_close(window.window.state, n_fulfilments) {
        Ok(()) => (),
        Err(CloseRefusal::NotOpen) => return Err(refused(SettlementRefusal::WindowNotOpen(id.0))),
        Err(CloseRefusal::Empty) => return Err(refused(SettlementRefusal::WindowEmpty(id.0))),
    }
    let (closed, opened) = tx.close_open_window(&reason, now).await?;
    assert_eq!(closed.id, id, "the OPEN window is the one that was checked");
    tx.commit().await?;
    publish_close(&app, id, &reason, now).await?;
    let opened = window_by_id(&app, opened.id)
        .await?
        .ok_or_else(|| ApiError::Store(StoreError::Corrupt(format!("window {} was opened and is gone", opened.id))))?;
    json(StatusCode::OK, &window_body(&opened))
}

async fn publish_close(app: &App, id: WindowId, reason: &str, now: Timestamp) -> Result<(), ApiError> {
    let payload = serde_json::to_string(&CloseEvent { reason: reason.to_string() }).expect("a close event serialises");
    let headers = std::collections::BTreeMap::from([("content-type".to_string(), ENVELOPE_MEDIA_TYPE.to_string())]);
    let key = id.to_string();
    let request = Request {
        transfer_id: &key,
        from: HUB_NAME,
        to: HUB_NAME,
        headers: &headers,
        content_type: ENVELOPE_MEDIA_TYPE,
        body: payload.as_bytes(),
    };
    let envelope = Envelope::request(request, EventKind::Settlement, Action::Close, now);
    match app
        .publisher
        .publish(Hub::SettlementWindowClose, vec![OutgoingEvent::keyed(key.clone(), envelope.to_json())])
        .await
    {
        Ok(()) => Ok(()),
        Err(err) => {
            tracing::error!(window = %id, error = %err, "window closed but its aggregation event was not published");
            Err(FspiopError::with_detail(
                ErrorCode::InternalServerError,
                "the settlement-window-close hub is unavailable",
            )
            .into())
        }
    }
}

async fn model_of(app: &App, settlement: &SettlementRecord) -> Result<SettlementModel, ApiError> {
    let models = app.store.settlement_models().await?;
    models
        .into_iter()
        .find(|it| it.id == settlement.model)
        .ok_or_else(|| ApiError::Store(StoreError::Corrupt(format!("settlement {} has no model", settlement.id))))
}

/// The settlement as the API prints it (`only`: one participant's accounts).
async fn settlement_body(
    app: &App,
    record: &SettlementRecord,
    only: Option<ParticipantId>,
) -> Result<SettlementBody, ApiError> {
    let model = model_of(app, record).await?;
    let windows = app.store.windows(Some(&record.windows)).await?;
    let settlement_windows = windows
        .iter()
        .map(|it| {
            let body = window_body(it);
            SettlementWindowBody {
                id: body.settlement_window_id,
                state: body.state,
                reason: body.reason,
                created_date: body.created_date,
                changed_date: body.changed_date,
                content: body.content,
            }
        })
        .collect();
    let mut participants: Vec<SettlementParticipantBody> = Vec::new();
    for account in record.accounts.iter().filter(|it| only.is_none_or(|p| p == it.participant)) {
        let body = SettlementAccountBody {
            id: Some(account.account.0 as i64),
            state: Some(account.state.name()),
            reason: account.reason.clone(),
            external_reference: account.external_reference.clone(),
            created_date: Some(date(account.changed)),
            net_settlement_amount: Some(NetAmount {
                amount: amount_number(account.net),
                currency: account.currency.code().to_string(),
            }),
            error_information: None,
        };
        push_account(&mut participants, Some(account.participant.0 as i64), body);
    }
    Ok(SettlementBody {
        id: record.id.0,
        settlement_model: model.definition.name.as_str().to_string(),
        state: record.state.name(),
        reason: record.reason.clone(),
        created_date: date(record.created),
        changed_date: date(record.changed),
        settlement_windows,
        participants,
    })
}

fn push_account(
    participants: &mut Vec<SettlementParticipantBody>,
    participant: Option<i64>,
    body: SettlementAccountBody,
) {
    match participants.iter_mut().find(|it| it.id == participant) {
        Some(it) => it.accounts.push(body),
        None => participants.push(SettlementParticipantBody { id: participant, accounts: vec![body] }),
    }
}

async fn settlement_record(app: &App, id: i64) -> Result<SettlementRecord, ApiError> {
    let not_found = || refused(SettlementRefusal::SettlementNotFound(id));
    let Some(stored) = stored_id(id) else {
        return Err(not_found());
    };
    app.store.settlements(Some(&[SettlementId(stored)])).await?.pop().ok_or_else(not_found)
}

async fn create_settlement(State(app): State<App>, body: Bytes) -> ApiResult {
    let request = parse_settlement_create(&body)?;
    let models = app.store.settlement_models().await?;
    let model = models
        .into_iter()
        .find(|it| it.definition.name.as_str() == request.model)
        .ok_or_else(|| refused(SettlementRefusal::ModelNotFound))?;
    let now = (app.now)();
    let requested: Vec<WindowId> = request.windows.iter().filter_map(|it| stored_id(*it)).map(WindowId).collect();
    let mut tx = app.store.begin().await?;
    let windows = tx.windows_for_update(&requested).await?;
    let views: Vec<WindowView> = windows.iter().map(window_view).collect();
    let plan = settlement_plan(&model, &request.windows, &requested, &views)?;
    let new = NewSettlement {
        model: model.id,
        reason: request.reason.clone(),
        windows: requested,
        accounts: plan.accounts.clone(),
        created: now,
    };
    let id = tx.insert_settlement(&new).await?;
    let pending = SettlementState::PendingSettlement;
    let mut states = vec![NewSettlementState {
        settlement: id,
        account: None,
        state: pending,
        reason: Some(request.reason.clone()),
        external_reference: None,
    }];
    states.extend(plan.accounts.iter().map(|(account, _)| NewSettlementState {
        settlement: id,
        account: Some(*account),
        state: pending,
        reason: Some(request.reason.clone()),
        external_reference: None,
    }));
    tx.insert_settlement_states(&states, now).await?;
    let contents: Vec<NewContentState> = plan
        .contents
        .iter()
        .map(|content| NewContentState {
            content: *content,
            state: WindowState::PendingSettlement,
            settlement: Some(id),
            reason: request.reason.clone(),
        })
        .collect();
    tx.insert_content_states(&contents, now).await?;
    let windows: Vec<(WindowId, WindowState)> =
        plan.windows.iter().map(|it| (*it, WindowState::PendingSettlement)).collect();
    tx.set_window_states(&windows, &request.reason, now).await?;
    tx.commit().await?;
    let record = settlement_record(&app, id.0 as i64).await?;
    json(StatusCode::OK, &settlement_body(&app, &record, None).await?)
}

/// The plan for the requested windows; ids that name no window (zero, negative) are as
/// inapplicable as windows with nothing to settle, listed in request order with them.
fn settlement_plan(
    model: &SettlementModel,
    ids: &[i64],
    requested: &[WindowId],
    views: &[WindowView],
) -> Result<SettlementPlan, ApiError> {
    let unnamed: Vec<i64> = ids.iter().copied().filter(|it| stored_id(*it).is_none()).collect();
    let inapplicable = match plan_settlement(model, requested, views) {
        Ok(plan) if unnamed.is_empty() => return Ok(plan),
        Ok(_) => Vec::new(),
        Err(Rejection::Settlement(SettlementRefusal::InapplicableWindows(ids))) => ids,
        Err(other) => return Err(other.into()),
    };
    let listed = ids.iter().copied().filter(|it| unnamed.contains(it) || inapplicable.contains(it)).collect();
    Err(refused(SettlementRefusal::InapplicableWindows(listed)))
}

async fn list_settlements(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> ApiResult {
    let query = parse_settlements_query(&query)?;
    require_filters(&query, &SETTLEMENT_FILTERS)?;
    let is = |number: &Option<JoiNumber>, id: u64| number.as_ref().is_none_or(|it| it.to_integer() == Some(id as i64));
    let mut bodies = Vec::new();
    for record in app.store.settlements(None).await? {
        let keep = query.state.as_ref().is_none_or(|it| it == record.state.name())
            && query.from.is_none_or(|from| from <= record.created)
            && query.to.is_none_or(|to| record.created <= to)
            && query.currency.as_ref().is_none_or(|code| record.accounts.iter().any(|it| it.currency.code() == code))
            && record.windows.iter().any(|it| is(&query.settlement_window_id, it.0))
            && query
                .participant_id
                .is_none_or(|p| record.accounts.iter().any(|it| Some(it.participant.0) == stored_id(p)))
            && record.accounts.iter().any(|it| is(&query.account_id, it.account.0));
        if keep {
            bodies.push(settlement_body(&app, &record, None).await?);
        }
    }
    if bodies.is_empty() {
        let text = format!("No settlements found matching the provided parameters: {}", filters_json(&query));
        return Err(refused(SettlementRefusal::NoMatch(text)));
    }
    json(StatusCode::OK, &bodies)
}

async fn get_settlement(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let record = settlement_record(&app, parse_id_param(&id, "id")?).await?;
    json(StatusCode::OK, &settlement_body(&app, &record, None).await?)
}

/// A participant id of a path as a filter: a non-positive id names no participant, which
/// `ParticipantId(0)` stands for.
fn participant_filter(pid: i64) -> ParticipantId {
    ParticipantId(stored_id(pid).unwrap_or(0))
}

async fn get_participant(State(app): State<App>, Path((sid, pid)): Path<(String, String)>) -> ApiResult {
    let (sid, pid) = (parse_id_param(&sid, "sid")?, parse_id_param(&pid, "pid")?);
    let record = settlement_record(&app, sid).await?;
    json(StatusCode::OK, &settlement_body(&app, &record, Some(participant_filter(pid))).await?)
}

async fn get_account(State(app): State<App>, Path((sid, pid, aid)): Path<(String, String, String)>) -> ApiResult {
    let (sid, pid, aid) = (parse_id_param(&sid, "sid")?, parse_id_param(&pid, "pid")?, parse_id_param(&aid, "aid")?);
    let record = settlement_record(&app, sid).await?;
    let mut body = settlement_body(&app, &record, Some(participant_filter(pid))).await?;
    for it in &mut body.participants {
        it.accounts.retain(|it| it.id == Some(aid));
    }
    json(StatusCode::OK, &body)
}

async fn update_settlement(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let id = parse_id_param(&id, "id")?;
    match parse_settlement_update(&body)? {
        SettlementUpdate::Accounts(requests) => apply_updates(&app, id, &requests).await,
        SettlementUpdate::Abort { reason, external_reference } => abort(&app, id, &reason, external_reference).await,
    }
}

async fn update_participant(
    State(app): State<App>,
    Path((sid, pid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let (sid, pid) = (parse_id_param(&sid, "sid")?, parse_id_param(&pid, "pid")?);
    let requests = parse_participant_update(&body, pid)?;
    apply_updates(&app, sid, &requests).await
}

async fn update_account(
    State(app): State<App>,
    Path((sid, pid, aid)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let (sid, pid, aid) = (parse_id_param(&sid, "sid")?, parse_id_param(&pid, "pid")?, parse_id_param(&aid, "aid")?);
    let request = parse_account_update(&body, pid, aid)?;
    apply_updates(&app, sid, &[request]).await
}

/// Loads a settlement under lock in a new transaction.
async fn locked_settlement(app: &App, id: i64) -> Result<(Box<dyn LedgerTx>, SettlementRecord), ApiError> {
    let not_found = || refused(SettlementRefusal::SettlementNotFound(id));
    let Some(stored) = stored_id(id) else {
        return Err(not_found());
    };
    let mut tx = app.store.begin().await?;
    let record = tx.settlements_for_update(&[SettlementId(stored)]).await?.pop().ok_or_else(not_found)?;
    Ok((tx, record))
}

fn roll_up_reason(state: SettlementState) -> String {
    format!("All settlement accounts are {}", state.name())
}

/// Moves accounts, resets positions per the model, rolls the settlement up, and cascades
/// SETTLED to contents and windows: one transaction.
async fn apply_updates(app: &App, id: i64, requests: &[AccountStateRequest]) -> ApiResult {
    let now = (app.now)();
    let (mut tx, record) = locked_settlement(app, id).await?;
    let id = record.id;
    let model = model_of(app, &record).await?;
    let accounts = account_views(&record);
    let updates: Vec<AccountUpdate> = requests
        .iter()
        .map(|it| AccountUpdate {
            participant: it.participant.and_then(stored_id).map(ParticipantId),
            account: it.account.and_then(stored_id).map(AccountId),
            state: it.state,
        })
        .collect();
    let decision = decide_updates(record.state, &accounts, &updates);
    let mut states = Vec::new();
    let mut steps = Vec::new();
    let mut changed = Vec::new();
    let mut after = accounts.clone();
    for ((request, update), result) in requests.iter().zip(&updates).zip(&decision.results) {
        let Ok(state) = result else { continue };
        let state = *state;
        let view = after
            .iter_mut()
            .find(|it| Some(it.account) == update.account)
            .expect("an accepted update names an account of the settlement");
        if view.state != state {
            changed.push(view.account);
            if let (true, Some(step)) = (model.definition.auto_position_reset, ledger_core::settlement::step_for(state))
            {
                steps.push(StepRequest { step, account: view.account, participant: view.participant, net: view.net });
            }
        }
        view.state = state;
        let reason = request.reason.clone();
        states.push(NewSettlementState {
            settlement: id,
            account: Some(view.account),
            state,
            reason,
            external_reference: request.external_reference.clone(),
        });
    }
    if let Some(next) = decision.settlement {
        states.push(NewSettlementState {
            settlement: id,
            account: None,
            state: next,
            reason: Some(roll_up_reason(next)),
            external_reference: None,
        });
    }
    tx.insert_settlement_states(&states, now).await?;
    run_transfer_steps(app.store.as_ref(), tx.as_mut(), id, &steps, now).await?;
    if after.iter().any(|it| it.state == SettlementState::Settled) {
        cascade_settled(tx.as_mut(), &record, &after, now).await?;
    }
    tx.commit().await?;
    let record = settlement_record(app, id.0 as i64).await?;
    json(StatusCode::OK, &update_body(app, &record, requests, &decision.results, &changed, now).await?)
}

/// The answer to account updates, as central-settlement gives it: the settlement's state, the
/// windows whose content holds an account that moved, and the request's participants in its
/// order, each account with its new state or why it did not move.
async fn update_body(
    app: &App,
    record: &SettlementRecord,
    requests: &[AccountStateRequest],
    results: &[Result<SettlementState, UpdateRefusal>],
    changed: &[AccountId],
    now: Timestamp,
) -> Result<SettlementUpdateBody, ApiError> {
    let windows = app.store.windows(Some(&record.windows)).await?;
    let settlement_windows = windows
        .iter()
        .filter_map(|it| {
            let moved = |content: &&ledger_store::operator::ContentRecord| {
                content.settlement == Some(record.id)
                    && content.aggregations.iter().any(|a| changed.contains(&a.account))
            };
            let content: Vec<ContentBody> = it.contents.iter().filter(moved).map(content_body).collect();
            let body = window_body(it);
            (!content.is_empty()).then_some(SettlementWindowBody {
                id: body.settlement_window_id,
                state: body.state,
                reason: body.reason,
                created_date: body.created_date,
                changed_date: body.changed_date,
                content,
            })
        })
        .collect();
    let mut participants: Vec<SettlementParticipantBody> = Vec::new();
    for (request, result) in requests.iter().zip(results) {
        let stored =
            request.account.and_then(stored_id).and_then(|id| record.accounts.iter().find(|it| it.account.0 == id));
        let net =
            stored.map(|it| NetAmount { amount: amount_number(it.net), currency: it.currency.code().to_string() });
        let body = match (result, stored) {
            (Ok(state), _) => SettlementAccountBody {
                id: request.account,
                state: Some(state.name()),
                reason: request.reason.clone(),
                external_reference: request.external_reference.clone(),
                created_date: Some(date(now)),
                net_settlement_amount: net,
                error_information: None,
            },
            (Err(refusal @ (UpdateRefusal::AlreadyProcessed | UpdateRefusal::StateChangeNotAllowed)), Some(stored)) => {
                SettlementAccountBody {
                    id: request.account,
                    state: Some(stored.state.name()),
                    reason: stored.reason.clone(),
                    external_reference: None,
                    created_date: Some(date(stored.changed)),
                    net_settlement_amount: net,
                    error_information: Some(update_error(*refusal)),
                }
            }
            (Err(refusal), _) => SettlementAccountBody {
                id: request.account,
                error_information: Some(update_error(*refusal)),
                ..SettlementAccountBody::default()
            },
        };
        match participants.last_mut() {
            Some(last) if last.id == request.participant => last.accounts.push(body),
            _ => participants.push(SettlementParticipantBody { id: request.participant, accounts: vec![body] }),
        }
    }
    Ok(SettlementUpdateBody {
        id: record.id.0,
        state: record.state.name(),
        created_date: date(record.changed),
        settlement_windows,
        participants,
    })
}

fn update_error(refusal: UpdateRefusal) -> fspiop::transfers::ErrorInformation {
    FspiopError::with_detail(ErrorCode::ClientError, refusal.reason()).to_wire().error_information
}

/// SETTLED accounts settle their contents, and settled contents their windows.
async fn cascade_settled(
    tx: &mut dyn LedgerTx,
    record: &SettlementRecord,
    accounts: &[AccountView],
    now: Timestamp,
) -> Result<(), StoreError> {
    let windows = tx.windows_for_update(&record.windows).await?;
    let mut views: Vec<WindowView> = windows.iter().map(window_view).collect();
    let mine: Vec<ContentView> = windows
        .iter()
        .flat_map(|it| it.contents.iter().filter(|content| content.settlement == Some(record.id)))
        .map(|it| ContentView { id: it.id, model: it.model, state: it.state, aggregations: it.aggregations.clone() })
        .collect();
    let settled = settled_contents(&mine, accounts);
    let reason = "All content aggregation records are SETTLED".to_string();
    let rows: Vec<NewContentState> = settled
        .iter()
        .map(|content| NewContentState {
            content: *content,
            state: WindowState::Settled,
            settlement: Some(record.id),
            reason: reason.clone(),
        })
        .collect();
    tx.insert_content_states(&rows, now).await?;
    for content in views.iter_mut().flat_map(|it| it.contents.iter_mut()) {
        if settled.contains(&content.id) {
            content.state = WindowState::Settled;
        }
    }
    let windows: Vec<(WindowId, WindowState)> =
        settled_windows(&views).into_iter().map(|it| (it, WindowState::Settled)).collect();
    tx.set_window_states(&windows, "All settlement window content is SETTLED", now).await
}

/// The designed abort (mojaloop.md §5.3): accounts ABORTED, reserved recipient resets reversed,
/// contents and windows ABORTED so they can be settled again, the settlement ABORTED.
async fn abort(app: &App, id: i64, reason: &str, external_reference: Option<String>) -> ApiResult {
    let now = (app.now)();
    let (mut tx, record) = locked_settlement(app, id).await?;
    let id = record.id;
    let accounts = account_views(&record);
    check_abort(record.state, &accounts)?;
    let aborted = SettlementState::Aborted;
    let mut states: Vec<NewSettlementState> = accounts
        .iter()
        .map(|it| NewSettlementState {
            settlement: id,
            account: Some(it.account),
            state: aborted,
            reason: Some(reason.to_string()),
            external_reference: external_reference.clone(),
        })
        .collect();
    states.push(NewSettlementState {
        settlement: id,
        account: None,
        state: aborted,
        reason: Some(reason.to_string()),
        external_reference,
    });
    tx.insert_settlement_states(&states, now).await?;
    let steps: Vec<StepRequest> = accounts
        .iter()
        .map(|it| StepRequest {
            step: TransferStep::Abort,
            account: it.account,
            participant: it.participant,
            net: it.net,
        })
        .collect();
    run_transfer_steps(app.store.as_ref(), tx.as_mut(), id, &steps, now).await?;
    let windows = tx.windows_for_update(&record.windows).await?;
    let contents: Vec<NewContentState> = windows
        .iter()
        .flat_map(|it| it.contents.iter().filter(|content| content.settlement == Some(id)))
        .map(|it| NewContentState {
            content: it.id,
            state: WindowState::Aborted,
            settlement: Some(id),
            reason: reason.to_string(),
        })
        .collect();
    tx.insert_content_states(&contents, now).await?;
    let windows: Vec<(WindowId, WindowState)> = record.windows.iter().map(|it| (*it, WindowState::Aborted)).collect();
    tx.set_window_states(&windows, reason, now).await?;
    tx.commit().await?;
    let record = settlement_record(app, id.0 as i64).await?;
    json(StatusCode::OK, &settlement_body(app, &record, None).await?)
}
