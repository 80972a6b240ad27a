"""The local Microsoft Graph: groups, Intune policies, sendMail, JSON batching."""
