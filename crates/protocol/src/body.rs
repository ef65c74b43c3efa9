//! The plaintext body of a message and its padding (docs/protocol.md §8.3).
//!
//! A body carries its content type, an optional reply reference, an
//! optional identity token (first visitor message), attachment references
//! and text. Before encryption it is framed as `u32 len ‖ body` and padded
//! with zero bytes to `padme(max(4 + len, 256))`, so short messages all
//! have the same size on the wire.

use crate::attachment::AttachmentRef;
use crate::codec::{Reader, Writer};
use crate::error::{Error, Result, Structure};
use crate::ids::EnvelopeHash;
use crate::padding::body_padded_len;
use alloc::string::String;
use alloc::vec::Vec;
use zeroize::{Zeroize, Zeroizing};

/// Body format version.
pub const BODY_VERSION: u8 = 1;
/// Maximum text length in bytes.
pub const MAX_TEXT: usize = 64 * 1024;
/// Maximum attachments announced by one message.
pub const MAX_ATTACHMENTS: usize = 16;
/// Maximum encoded identity token.
pub const MAX_IDENTITY_TOKEN: usize = 4096;
/// Maximum file-name length of an attachment.
pub const MAX_FILE_NAME: usize = 255;
/// Maximum media-type length of an attachment.
pub const MAX_MEDIA_TYPE: usize = 127;

/// What a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ContentType {
    /// A text message (possibly with attachments).
    Text = 1,
    /// A message whose main content is its attachments.
    Attachment = 2,
    /// A client event with a text payload (e.g. an abuse report marker); rendered as such.
    Event = 3,
}

impl ContentType {
    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Text),
            2 => Some(Self::Attachment),
            3 => Some(Self::Event),
            _ => None,
        }
    }
}

/// An attachment announced by a message.
#[derive(Debug)]
pub struct AttachmentInfo {
    /// The file name shown to the receiver (≤ 255 bytes UTF-8).
    pub name: String,
    /// The declared media type (≤ 127 bytes, e.g. `image/png`).
    pub media_type: String,
    /// Keys, sizes and digests to fetch and decrypt it.
    pub reference: AttachmentRef,
}

/// A decrypted (or to-be-encrypted) message body. The text is zeroized on drop.
#[derive(Debug)]
pub struct Body {
    /// What the message is.
    pub content_type: ContentType,
    /// The envelope this one replies to.
    pub reply_to: Option<EnvelopeHash>,
    /// An encoded identity token ([`crate::token`]), in a visitor's first message.
    pub identity_token: Option<Vec<u8>>,
    /// Announced attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// The text.
    pub text: String,
}

impl Drop for Body {
    fn drop(&mut self) {
        self.text.zeroize();
        for a in &mut self.attachments {
            a.name.zeroize();
        }
    }
}

impl Body {
    /// A plain text body.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            content_type: ContentType::Text,
            reply_to: None,
            identity_token: None,
            attachments: Vec::new(),
            text: text.into(),
        }
    }

    /// The padded plaintext: `u32 len ‖ encoding ‖ zeros`.
    pub fn encode_padded(&self) -> Result<Zeroizing<Vec<u8>>> {
        let too_large = |field| Error::TooLarge {
            structure: Structure::Body,
            field,
        };
        if self.text.len() > MAX_TEXT {
            return Err(too_large("text"));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(too_large("attachments"));
        }
        if self
            .identity_token
            .as_ref()
            .is_some_and(|t| t.len() > MAX_IDENTITY_TOKEN)
        {
            return Err(too_large("identity_token"));
        }
        for a in &self.attachments {
            if a.name.len() > MAX_FILE_NAME {
                return Err(too_large("name"));
            }
            if a.media_type.len() > MAX_MEDIA_TYPE {
                return Err(too_large("media_type"));
            }
        }
        let mut w = Writer::with_capacity(self.text.len() + 64);
        w.u8(BODY_VERSION);
        w.u8(self.content_type as u8);
        match &self.reply_to {
            None => w.u8(0),
            Some(h) => {
                w.u8(1);
                w.raw(&h.0);
            }
        }
        match &self.identity_token {
            None => w.u8(0),
            Some(t) => {
                w.u8(1);
                w.opaque16(t);
            }
        }
        w.count16(self.attachments.len());
        for a in &self.attachments {
            w.opaque8(a.name.as_bytes());
            w.opaque8(a.media_type.as_bytes());
            a.reference.write(&mut w);
        }
        w.opaque32(self.text.as_bytes());
        let inner = Zeroizing::new(w.into_vec());
        let total = body_padded_len(inner.len() as u64 + 4);
        let total = usize::try_from(total).map_err(|_| too_large("body"))?;
        let mut out = Zeroizing::new(Vec::with_capacity(total));
        out.extend_from_slice(&(inner.len() as u32).to_be_bytes());
        out.extend_from_slice(&inner);
        out.resize(total, 0);
        Ok(out)
    }

    /// Decodes a padded plaintext; the padding must be exactly the Padmé
    /// length and all zero.
    pub fn decode_padded(padded: &[u8]) -> Result<Self> {
        let mut r = Reader::new(padded, Structure::Body);
        let len = usize::try_from(r.u32()?).map_err(|_| r.too_large("length"))?;
        let inner = r.take(len)?;
        let padding = r.take(r.remaining())?;
        if body_padded_len(len as u64 + 4) != padded.len() as u64 || padding.iter().any(|b| *b != 0)
        {
            return Err(Error::InvalidField {
                structure: Structure::Body,
                field: "padding",
            });
        }
        let mut r = Reader::new(inner, Structure::Body);
        if r.u8()? != BODY_VERSION {
            return Err(r.invalid("version"));
        }
        let content_type = ContentType::from_u8(r.u8()?).ok_or(r.invalid("content_type"))?;
        let reply_to = if r.option_tag("reply_to")? {
            Some(EnvelopeHash(r.array()?))
        } else {
            None
        };
        let identity_token = if r.option_tag("identity_token")? {
            Some(r.opaque16("identity_token", MAX_IDENTITY_TOKEN)?.to_vec())
        } else {
            None
        };
        let n = r.count16("attachments", MAX_ATTACHMENTS)?;
        let mut attachments = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.string8("name", MAX_FILE_NAME)?;
            let media_type = r.string8("media_type", MAX_MEDIA_TYPE)?;
            let reference = AttachmentRef::read(&mut r)?;
            attachments.push(AttachmentInfo {
                name,
                media_type,
                reference,
            });
        }
        let text = r.string32("text", MAX_TEXT)?;
        r.finish()?;
        Ok(Self {
            content_type,
            reply_to,
            identity_token,
            attachments,
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_round_trip_and_strict_padding() {
        let mut b = Body::text("hello");
        b.reply_to = Some(EnvelopeHash([9; 32]));
        b.identity_token = Some(alloc::vec![1, 2, 3]);
        let p = b.encode_padded().unwrap();
        assert_eq!(p.len(), 256);
        let d = Body::decode_padded(&p).unwrap();
        assert_eq!(d.text, "hello");
        assert_eq!(d.reply_to, b.reply_to);
        assert_eq!(d.identity_token, b.identity_token);

        let mut bad = p.to_vec();
        *bad.last_mut().unwrap() = 1;
        assert!(Body::decode_padded(&bad).is_err());
        let mut short = p.to_vec();
        short.pop();
        assert!(Body::decode_padded(&short).is_err());
        let big = Body::text("x".repeat(MAX_TEXT + 1));
        assert!(big.encode_padded().is_err());
    }
}
