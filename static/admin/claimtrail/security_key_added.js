// The two-factor page: once a security key is added, show the page again (the new key in
// its list, and recovery codes if it was the first second factor).
document.addEventListener("otp_webauthn.register_complete", () => window.location.reload());
