// Package smtpmail sends e-mail with attachments over SMTP (RFC 5321)
// with net/smtp: STARTTLS (RFC 3207) when configured, AUTH PLAIN (RFC
// 4954) when a user is set, and a multipart/mixed MIME body (RFC 2045,
// RFC 2046) with base64 attachments. It holds no state between messages:
// each Send opens its own connection.
//
// It imports only the standard library and must not import the rest of
// Hotline.
package smtpmail
