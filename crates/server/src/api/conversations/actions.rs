//! Conversation state changes: assign, transfer, close, reopen.
//!
//! Every change first checks visibility (`crate::access`: 404 when the
//! caller may not see the conversation), then who may act (403), then the
//! transition (409 `invalid_state`). The update is conditional on the state
//! and assignee the decision was made on, so two racing changes cannot both
//! apply: the loser gets 409 `invalid_state`.
//!
//! Non-goals: notifying subscribers (the delivery area fans out changes).

use super::{AssignTo, ConversationView, parse_id};
use crate::access::{Caller, ConversationRow, ConversationState, conversation_access};
use crate::app::AppState;
use crate::auth::{Staff, StaffRole};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use confide_protocol::InboxId;

fn invalid_state(row: &ConversationRow, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_state",
        format!(
            "cannot {action} a conversation that is {}",
            row.state.as_str()
        ),
    )
}

/// Whether `user_id` is an enabled agent or supervisor of `inbox`.
async fn is_reader(state: &AppState, inbox: InboxId, user_id: i64) -> ApiResult<bool> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT u.role FROM user u JOIN user_inbox ui ON ui.user_id = u.id AND ui.inbox_id = ? \
         WHERE u.id = ? AND u.disabled = 0",
    )
    .bind(inbox.0.as_slice())
    .bind(user_id)
    .fetch_optional(&state.0.pool)
    .await?;
    Ok(row
        .and_then(|(role,)| StaffRole::parse(&role))
        .is_some_and(StaffRole::reads_conversations))
}

async fn require_reader(state: &AppState, inbox: InboxId, user_id: i64) -> ApiResult<()> {
    if is_reader(state, inbox, user_id).await? {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_assignee",
            "the user is not an agent or supervisor of this inbox",
        ))
    }
}

/// Moves `row` to `to` with `assignee`, only if it is still in the state
/// and assignment it was read with; returns the updated row.
async fn transition(
    state: &AppState,
    caller: &Caller,
    row: &ConversationRow,
    to: ConversationState,
    assignee: Option<i64>,
    action: &str,
) -> ApiResult<ConversationRow> {
    let changed = sqlx::query(
        "UPDATE conversation SET state = ?, assignee = ?, updated_at = max(updated_at, ?) \
         WHERE id = ? AND state = ? AND assignee IS ?",
    )
    .bind(to.as_str())
    .bind(assignee)
    .bind(db::now())
    .bind(row.id.0.as_slice())
    .bind(row.state.as_str())
    .bind(row.assignee)
    .execute(&state.0.pool)
    .await?
    .rows_affected();
    state.0.cache.invalidate();
    if changed != 1 {
        return Err(ApiError::conflict(
            "invalid_state",
            format!("the conversation changed while trying to {action} it; reload and retry"),
        ));
    }
    tracing::info!(conversation = %row.id, from = row.state.as_str(), to = to.as_str(), action, "conversation state changed");
    // The caller may no longer see it (an agent transferring away in an
    // assigned-only inbox): answer with the new row regardless.
    match conversation_access(state, caller, row.id).await {
        Ok(updated) => Ok(updated),
        Err(_) => Ok(ConversationRow {
            state: to,
            assignee,
            ..row.clone()
        }),
    }
}

async fn view(
    state: &AppState,
    row: ConversationRow,
    caller: &Caller,
) -> ApiResult<Json<ConversationView>> {
    Ok(Json(
        ConversationView::of(state, row, matches!(caller, Caller::Staff(_))).await?,
    ))
}

/// Assigns an open conversation: a supervisor to any agent or supervisor
/// of the inbox, an agent to themself. Assigning to the current assignee
/// is a no-op; to anyone else, use `transfer`.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/assign", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (hex)")),
    request_body = AssignTo,
    responses(
        (status = 200, body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Agents may assign only themselves", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
        (status = 422, description = "`invalid_assignee`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn assign(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(id): AppPath<String>,
    AppJson(to): AppJson<AssignTo>,
) -> ApiResult<Json<ConversationView>> {
    let (agent, me) = (staff.role == StaffRole::Agent, staff.user_id);
    let caller = Caller::Staff(staff);
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    if agent && to.user_id != me {
        return Err(ApiError::forbidden(
            "agents may assign conversations only to themselves",
        ));
    }
    require_reader(&state, row.inbox_id, to.user_id).await?;
    match row.state {
        ConversationState::Assigned if row.assignee == Some(to.user_id) => {
            view(&state, row, &caller).await
        }
        ConversationState::Open => {
            let row = transition(
                &state,
                &caller,
                &row,
                ConversationState::Assigned,
                Some(to.user_id),
                "assign",
            )
            .await?;
            view(&state, row, &caller).await
        }
        ConversationState::Assigned | ConversationState::Closed => {
            Err(invalid_state(&row, "assign"))
        }
    }
}

/// Hands an assigned conversation to another agent or supervisor of the
/// inbox (the current assignee, or a supervisor).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/transfer", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (hex)")),
    request_body = AssignTo,
    responses(
        (status = 200, body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Neither the assignee nor a supervisor", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_state`", body = ErrorBody),
        (status = 422, description = "`invalid_assignee`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(super) async fn transfer(
    State(state): State<AppState>,
    staff: Staff,
    AppPath(id): AppPath<String>,
    AppJson(to): AppJson<AssignTo>,
) -> ApiResult<Json<ConversationView>> {
    let (supervisor, me) = (staff.role == StaffRole::Supervisor, staff.user_id);
    let caller = Caller::Staff(staff);
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    if row.state != ConversationState::Assigned {
        return Err(invalid_state(&row, "transfer"));
    }
    if !supervisor && row.assignee != Some(me) {
        return Err(ApiError::forbidden(
            "only the assignee or a supervisor may transfer this conversation",
        ));
    }
    require_reader(&state, row.inbox_id, to.user_id).await?;
    if row.assignee == Some(to.user_id) {
        return view(&state, row, &caller).await;
    }
    let row = transition(
        &state,
        &caller,
        &row,
        ConversationState::Assigned,
        Some(to.user_id),
        "transfer",
    )
    .await?;
    view(&state, row, &caller).await
}

/// Closes a conversation (staff who may see it, or its visitor).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/close", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (hex)")),
    responses(
        (status = 200, body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_state`: already closed", body = ErrorBody),
    ),
    security(("bearer" = []), ("visitor" = []))
)]
pub(super) async fn close(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<String>,
) -> ApiResult<Json<ConversationView>> {
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    if row.state == ConversationState::Closed {
        return Err(invalid_state(&row, "close"));
    }
    let assignee = row.assignee;
    let row = transition(
        &state,
        &caller,
        &row,
        ConversationState::Closed,
        assignee,
        "close",
    )
    .await?;
    view(&state, row, &caller).await
}

/// Reopens a closed conversation (staff who may see it, or its visitor
/// unless blocked). It returns to its assignee if they still read the
/// inbox, else to the open queue.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/reopen", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id (hex)")),
    responses(
        (status = 200, body = ConversationView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The visitor is blocked", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_state`: not closed", body = ErrorBody),
    ),
    security(("bearer" = []), ("visitor" = []))
)]
pub(super) async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    AppPath(id): AppPath<String>,
) -> ApiResult<Json<ConversationView>> {
    let row = conversation_access(&state, &caller, parse_id(&id)?).await?;
    if let Caller::Visitor(v) = &caller
        && v.blocked
    {
        return Err(ApiError::forbidden("this visitor is blocked"));
    }
    if row.state != ConversationState::Closed {
        return Err(invalid_state(&row, "reopen"));
    }
    let keep = match row.assignee {
        Some(user) if is_reader(&state, row.inbox_id, user).await? => Some(user),
        _ => None,
    };
    let to = if keep.is_some() {
        ConversationState::Assigned
    } else {
        ConversationState::Open
    };
    let row = transition(&state, &caller, &row, to, keep, "reopen").await?;
    view(&state, row, &caller).await
}
