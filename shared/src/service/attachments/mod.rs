//! Attachments (SPEC §8): a participant declares a file for a conversation and gets a signed
//! upload URL; a send names it by `attachmentId` and, once the uploaded object is checked
//! against what was declared, carries it; participants download it through short-lived signed
//! URLs; deleting the message deletes it; uploads no message claimed are swept.

use std::collections::BTreeMap;

use crate::{
    auth::CurrentUser,
    dto::attachments::{CreateAttachmentRequest, DownloadLink, UploadInstructions, UploadTicket},
    error::AppError,
    model::{Attachment, AttachmentId, FileAttachment, Message, MessageAttachment, Room, UserId},
    objects::Delivery,
    service::{access, rate_limit},
    store::AttachmentClaim,
    AppContext,
};

pub mod kinds;

/// Expired uploads one sweep removes.
const SWEEP_BATCH: u32 = 100;

/// The conversation an upload is declared for: the caller and a `receiver` who exists and does
/// not block them, or a group the caller belongs to.
async fn conversation_of(
    ctx: &AppContext,
    caller: CurrentUser,
    input: &CreateAttachmentRequest,
) -> Result<Room, AppError> {
    match (input.receiver, input.group_id) {
        (Some(receiver), None) => {
            if receiver == caller.id {
                return Err(AppError::bad_request("receiver must be another user"));
            }
            access::existing_user(ctx, receiver, "Receiver").await?;
            if ctx.store.blocks(receiver, caller.id).await? {
                return Err(access::blocked_by_receiver());
            }
            Ok(Room::private(caller.id, receiver))
        }
        (None, Some(group_id)) => {
            access::member_group(ctx, caller, group_id).await?;
            Ok(Room::Group(group_id))
        }
        _ => Err(AppError::bad_request(
            "name the conversation: receiver or groupId (one of them)",
        )),
    }
}

/// Declares an upload: checks the caller, the type, the size and the upload rate limit, records
/// it as pending and signs a URL for its bytes.
pub async fn create_upload(
    ctx: &AppContext,
    caller: CurrentUser,
    input: CreateAttachmentRequest,
) -> Result<UploadTicket, AppError> {
    let limits = &ctx.config.attachments;
    let content_type = kinds::allowed(&input.content_type).ok_or_else(|| {
        AppError::UnsupportedMediaType(format!(
            "contentType {:?} is not allowed; allowed: {}",
            input.content_type,
            kinds::allowed_list().join(", ")
        ))
    })?;
    if input.size == 0 || input.size > limits.max_bytes {
        return Err(AppError::bad_request(format!(
            "size must be 1 to {} bytes (ATTACHMENT_MAX_BYTES)",
            limits.max_bytes
        )));
    }
    let room = conversation_of(ctx, caller, &input).await?;
    rate_limit::check(
        ctx,
        "attachment",
        &rate_limit::user_key(caller.id),
        limits.upload_rate_limit,
    )
    .await?;
    let now = crate::time::now();
    let attachment = Attachment {
        id: AttachmentId::new(),
        uploader: caller.id,
        chat_room_id: room,
        file_name: kinds::safe_file_name(&input.file_name),
        content_type,
        size: input.size,
        message_id: None,
        width: None,
        height: None,
        created_at: now,
        expires_at: now + crate::time::span(limits.unattached_expiry),
    };
    let upload = ctx
        .objects
        .upload_url(
            &attachment.id.object_key(),
            &attachment.content_type,
            attachment.size,
            limits.upload_expiry,
        )
        .await?;
    ctx.store.insert_attachment(&attachment).await?;
    Ok(UploadTicket {
        attachment_id: attachment.id.to_string(),
        upload: UploadInstructions {
            url: upload.url,
            method: upload.method.to_owned(),
            headers: upload.headers.into_iter().collect::<BTreeMap<_, _>>(),
        },
        expires_at: now + crate::time::span(limits.upload_expiry),
    })
}

fn not_attachable() -> AppError {
    AppError::bad_request(
        "attachmentId must name a file you uploaded for this conversation that no message carries yet",
    )
}

/// Claims an uploaded attachment for a message about to be stored in `room`: it must be the
/// caller's, for this conversation, pending and unexpired, and its object must exist with the
/// declared size and type (raster images: bytes of that format, whose dimensions it records).
pub async fn claim(
    ctx: &AppContext,
    caller: CurrentUser,
    attachment_id: &str,
    room: &Room,
    message_id: &str,
) -> Result<FileAttachment, AppError> {
    let id = AttachmentId::parse(attachment_id).ok_or_else(not_attachable)?;
    let now = crate::time::now();
    let pending = ctx
        .store
        .find_attachment(&id)
        .await?
        .filter(|a| {
            a.uploader == caller.id
                && a.chat_room_id == *room
                && a.message_id.is_none()
                && a.expires_at > now
        })
        .ok_or_else(not_attachable)?;
    let key = id.object_key();
    let stored = ctx.objects.stat(&key).await?.ok_or_else(|| {
        AppError::bad_request("the file has not been uploaded yet: send it to upload.url first")
    })?;
    if stored.size != pending.size {
        return Err(AppError::bad_request(format!(
            "the uploaded file has {} bytes, not the declared {}",
            stored.size, pending.size
        )));
    }
    let stored_type = stored.content_type.as_deref().and_then(kinds::allowed);
    if stored_type.as_deref() != Some(pending.content_type.as_str()) {
        return Err(AppError::bad_request(format!(
            "the file was uploaded as {}, not the declared {}",
            stored.content_type.as_deref().unwrap_or("no type"),
            pending.content_type
        )));
    }
    let dimensions = if kinds::is_raster(&pending.content_type) {
        let header = ctx.objects.read_start(&key, kinds::HEADER_BYTES).await?;
        kinds::image_dimensions(&pending.content_type, &header).map_err(AppError::BadRequest)?
    } else {
        None
    };
    let claimed = ctx
        .store
        .claim_attachment(&AttachmentClaim {
            id: id.clone(),
            uploader: caller.id,
            chat_room_id: *room,
            message_id: message_id.to_owned(),
            dimensions,
            now,
        })
        .await?
        .ok_or_else(not_attachable)?;
    if let Err(err) = ctx.objects.mark_attached(&key).await {
        release(ctx, &id, message_id).await;
        return Err(err.into());
    }
    Ok(claimed.file())
}

/// Undoes a claim whose message was not stored (the upload stays pending).
pub async fn release(ctx: &AppContext, id: &AttachmentId, message_id: &str) {
    if let Err(err) = ctx.store.release_attachment(id, message_id).await {
        tracing::warn!(error = %err, attachment = %id, "cannot release an attachment claim");
    }
}

/// Whether the caller may see what was posted in `room`.
async fn takes_part(ctx: &AppContext, caller: CurrentUser, room: &Room) -> Result<bool, AppError> {
    Ok(match room {
        Room::Private(pair) => pair.contains(caller.id),
        Room::Group(group) => access::member_group(ctx, caller, *group).await.is_ok(),
        Room::User(_) | Room::Session(_) => false,
    })
}

/// A short-lived link to an attachment's bytes, for a participant of its conversation (its
/// uploader while it is pending); 404 for anybody else, as for one that does not exist.
pub async fn download(
    ctx: &AppContext,
    caller: CurrentUser,
    attachment_id: &str,
) -> Result<DownloadLink, AppError> {
    let missing = || AppError::not_found("Attachment not found");
    let id = AttachmentId::parse(attachment_id).ok_or_else(missing)?;
    let attachment = ctx.store.find_attachment(&id).await?.ok_or_else(missing)?;
    let visible = match attachment.message_id {
        None => attachment.uploader == caller.id,
        Some(_) => takes_part(ctx, caller, &attachment.chat_room_id).await?,
    };
    if !visible {
        return Err(missing());
    }
    let expiry = ctx.config.attachments.download_expiry;
    let delivery = Delivery {
        content_type: attachment.content_type.clone(),
        disposition: kinds::disposition(&attachment.content_type, &attachment.file_name),
    };
    let url = ctx
        .objects
        .download_url(&id.object_key(), &delivery, expiry)
        .await?;
    Ok(DownloadLink {
        url,
        expires_at: crate::time::now() + crate::time::span(expiry),
    })
}

/// Deletes the stored file a message carried (the message was deleted): the object, then the
/// record. A failure is logged; the sweep does not see attached records, so it is retried only
/// by deleting again.
pub async fn remove_for(ctx: &AppContext, message: &Message) {
    let Some(id) = message
        .attachment
        .as_ref()
        .and_then(MessageAttachment::attachment_id)
    else {
        return;
    };
    let removed = match ctx.objects.delete(&id.object_key()).await {
        Ok(()) => ctx
            .store
            .remove_attachment(&id)
            .await
            .map_err(AppError::from),
        Err(err) => Err(err.into()),
    };
    if let Err(err) = removed {
        tracing::warn!(error = %err, attachment = %id, "cannot delete a deleted message's attachment");
    }
}

/// Deletes every file `uploader` uploaded (their account is being deleted): objects, then
/// records. Fails on the first object that cannot be deleted, so the deletion can be retried.
pub async fn remove_all_of(ctx: &AppContext, uploader: UserId) -> Result<usize, AppError> {
    let uploads = ctx.store.attachments_of(uploader).await?;
    for upload in &uploads {
        ctx.objects.delete(&upload.id.object_key()).await?;
        ctx.store.remove_attachment(&upload.id).await?;
    }
    Ok(uploads.len())
}

/// Removes uploads that no message claimed in time: their objects, then their records (only
/// while still pending, so a late claim cannot lose its file). How many it removed.
pub async fn sweep(ctx: &AppContext) -> Result<usize, AppError> {
    let now = crate::time::now();
    let expired = ctx.store.expired_attachments(now, SWEEP_BATCH).await?;
    let mut removed = 0;
    for attachment in expired {
        if ctx
            .store
            .remove_expired_attachment(&attachment.id, now)
            .await?
        {
            ctx.objects.delete(&attachment.id.object_key()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
