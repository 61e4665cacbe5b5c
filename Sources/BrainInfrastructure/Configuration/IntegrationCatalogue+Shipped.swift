extension IntegrationCatalogueReader {
    /// The catalogue shipped with the gateway: every integration of the seed's agent tiers and
    /// common SaaS APIs, with their real API base URLs. Providers whose URL is per account (a
    /// Shopify shop, a Zendesk subdomain, a Salesforce instance, a Mailchimp data centre) carry
    /// a placeholder that a tenant's activation replaces with `base_url`. `verify` is a cheap
    /// authenticated read that answers 2xx only for working credentials; providers without one
    /// (or whose check needs more than the credentials) have none.
    ///
    /// `amazon-ses` is listed for its tier: AWS expects Signature V4, which is not one of the
    /// schemes the gateway applies, so its credentials are kept for agents that sign requests
    /// themselves.
    static let shipped = """
    - {name: facebook, category: social, auth: bearer, credentials: [access_token], base_url: "https://graph.facebook.com/v19.0", verify: {path: /me}}
    - {name: amazon-sp, category: commerce, auth: {type: oauth2, token_url: "https://api.amazon.com/auth/o2/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://sellingpartnerapi-na.amazon.com", verify: {path: /sellers/v1/marketplaceParticipations}}
    - {name: amazon-ads, category: advertising, auth: {type: oauth2, token_url: "https://api.amazon.com/auth/o2/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://advertising-api.amazon.com", verify: {path: /v2/profiles}}
    - {name: stripe, category: payments, auth: bearer, credentials: [secret_key], base_url: "https://api.stripe.com", verify: {path: /v1/balance}}
    - {name: paypal, category: payments, auth: {type: oauth2, token_url: "https://api-m.paypal.com/v1/oauth2/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://api-m.paypal.com"}
    - {name: payu, category: payments, auth: {type: oauth2, token_url: "https://secure.payu.com/pl/standard/user/oauth/authorize"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://secure.payu.com/api/v2_1"}
    - {name: instagram, category: social, auth: bearer, credentials: [access_token], base_url: "https://graph.instagram.com", verify: {path: /me}}
    - {name: linkedin, category: social, auth: {type: oauth2, token_url: "https://www.linkedin.com/oauth/v2/accessToken"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://api.linkedin.com/v2", verify: {path: /userinfo}}
    - {name: youtube, category: video, auth: {type: oauth2, token_url: "https://oauth2.googleapis.com/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://www.googleapis.com/youtube/v3", verify: {path: "/channels?part=id&mine=true"}}
    - {name: google-search, category: search, auth: "query:key", credentials: [api_key, search_engine_id], base_url: "https://customsearch.googleapis.com/customsearch/v1"}
    - {name: google-ads, category: advertising, auth: {type: oauth2, token_url: "https://oauth2.googleapis.com/token"}, credentials: [client_id, client_secret, refresh_token, developer_token], base_url: "https://googleads.googleapis.com/v17"}
    - {name: google-analytics, category: analytics, auth: {type: oauth2, token_url: "https://oauth2.googleapis.com/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://analyticsadmin.googleapis.com/v1beta", verify: {path: /accountSummaries}}
    - {name: openai, category: ai, auth: bearer, credentials: [api_key], base_url: "https://api.openai.com/v1", verify: {path: /models}}
    - {name: anthropic, category: ai, auth: "header:x-api-key", credentials: [api_key], base_url: "https://api.anthropic.com/v1", verify: {path: /models}}
    - {name: twitter, category: social, auth: bearer, credentials: [bearer_token], base_url: "https://api.twitter.com/2"}
    - {name: tiktok, category: social, auth: {type: oauth2, token_url: "https://open.tiktokapis.com/v2/oauth/token/"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://open.tiktokapis.com/v2"}
    - {name: pinterest, category: social, auth: {type: oauth2, token_url: "https://api.pinterest.com/v5/oauth/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://api.pinterest.com/v5", verify: {path: /user_account}}
    - {name: google-business, category: local, auth: {type: oauth2, token_url: "https://oauth2.googleapis.com/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://mybusinessbusinessinformation.googleapis.com/v1"}
    - {name: bing, category: search, auth: "header:Ocp-Apim-Subscription-Key", credentials: [subscription_key], base_url: "https://api.bing.microsoft.com/v7.0"}
    - {name: facebook-ads, category: advertising, auth: bearer, credentials: [access_token], base_url: "https://graph.facebook.com/v19.0", verify: {path: /me/adaccounts}}
    - {name: razorpay, category: payments, auth: basic, credentials: [username, password], base_url: "https://api.razorpay.com/v1", verify: {path: "/payments?count=1"}}
    - {name: amazon-ses, category: email, auth: basic, credentials: [username, password, region], base_url: "https://email.us-east-1.amazonaws.com/v2"}
    - {name: sendgrid, category: email, auth: bearer, credentials: [api_key], base_url: "https://api.sendgrid.com/v3", verify: {path: /scopes}}
    - {name: twilio, category: messaging, auth: basic, credentials: [username, password], base_url: "https://api.twilio.com/2010-04-01", verify: {path: /Accounts.json}}
    - {name: hubspot, category: crm, auth: bearer, credentials: [access_token], base_url: "https://api.hubapi.com", verify: {path: "/crm/v3/objects/contacts?limit=1"}}
    - {name: calendly, category: scheduling, auth: bearer, credentials: [access_token], base_url: "https://api.calendly.com", verify: {path: /users/me}}
    - {name: slack, category: messaging, auth: bearer, credentials: [bot_token], base_url: "https://slack.com/api"}
    - {name: github, category: developer, auth: bearer, credentials: [token], base_url: "https://api.github.com", verify: {path: /user}}
    - {name: gitlab, category: developer, auth: "header:PRIVATE-TOKEN", credentials: [token], base_url: "https://gitlab.com/api/v4", verify: {path: /user}}
    - {name: shopify, category: commerce, auth: "header:X-Shopify-Access-Token", credentials: [access_token], base_url: "https://your-shop.myshopify.com/admin/api/2024-04", verify: {path: /shop.json}}
    - {name: mailchimp, category: email, auth: basic, credentials: [username, password], base_url: "https://us1.api.mailchimp.com/3.0", verify: {path: /ping}}
    - {name: zendesk, category: support, auth: basic, credentials: [username, password], base_url: "https://your-subdomain.zendesk.com/api/v2", verify: {path: /users/me.json}}
    - {name: intercom, category: support, auth: bearer, credentials: [access_token], base_url: "https://api.intercom.io", verify: {path: /me}}
    - {name: salesforce, category: crm, auth: {type: oauth2, token_url: "https://login.salesforce.com/services/oauth2/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://your-instance.my.salesforce.com/services/data/v60.0"}
    - {name: notion, category: productivity, auth: bearer, credentials: [api_key], base_url: "https://api.notion.com/v1"}
    - {name: airtable, category: productivity, auth: bearer, credentials: [access_token], base_url: "https://api.airtable.com/v0", verify: {path: /meta/whoami}}
    - {name: asana, category: productivity, auth: bearer, credentials: [access_token], base_url: "https://app.asana.com/api/1.0", verify: {path: /users/me}}
    - {name: jira, category: productivity, auth: basic, credentials: [username, password], base_url: "https://your-site.atlassian.net/rest/api/3", verify: {path: /myself}}
    - {name: dropbox, category: storage, auth: {type: oauth2, token_url: "https://api.dropboxapi.com/oauth2/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://api.dropboxapi.com/2"}
    - {name: google-drive, category: storage, auth: {type: oauth2, token_url: "https://oauth2.googleapis.com/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://www.googleapis.com/drive/v3", verify: {path: "/about?fields=user"}}
    - {name: zoom, category: meetings, auth: {type: oauth2, token_url: "https://zoom.us/oauth/token"}, credentials: [client_id, client_secret, refresh_token], base_url: "https://api.zoom.us/v2", verify: {path: /users/me}}
    - {name: square, category: payments, auth: bearer, credentials: [access_token], base_url: "https://connect.squareup.com/v2", verify: {path: /locations}}
    - {name: mailgun, category: email, auth: basic, credentials: [username, password], base_url: "https://api.mailgun.net/v3", verify: {path: /domains}}
    - {name: postmark, category: email, auth: "header:X-Postmark-Server-Token", credentials: [server_token], base_url: "https://api.postmarkapp.com", verify: {path: /server}}
    - {name: datadog, category: monitoring, auth: "header:DD-API-KEY", credentials: [api_key], base_url: "https://api.datadoghq.com/api/v1", verify: {path: /validate}}
    - {name: sentry, category: monitoring, auth: bearer, credentials: [auth_token], base_url: "https://sentry.io/api/0", verify: {path: /organizations/}}
    - {name: mixpanel, category: analytics, auth: basic, credentials: [username, password], base_url: "https://mixpanel.com/api"}
    - {name: cloudflare, category: infrastructure, auth: bearer, credentials: [api_token], base_url: "https://api.cloudflare.com/client/v4", verify: {path: /user/tokens/verify}}
    """
}
