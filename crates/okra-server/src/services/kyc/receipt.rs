//! Prices and receipts of the paid KYC operations (docs/api.md §7): the receipt in the shape of
//! the reference's examples, for every paid call (a `testing` call costs 0 and has one too).

use okra_core::Environment;
use serde_json::{json, Value};

use crate::config::Config;

/// A paid KYC operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// `products/kyc/customer-verify`.
    CustomerVerify,
    /// `products/kyc/bvn-verify`.
    BvnVerify,
    /// `products/kyc/nuban-verify`.
    NubanVerify,
    /// `products/kyc/nuban-name-verify`.
    NubanNameVerify,
}

impl Service {
    /// The operation's name (`billable_service` of its receipts).
    pub fn name(self) -> &'static str {
        match self {
            Service::CustomerVerify => "customer-verify",
            Service::BvnVerify => "bvn-verify",
            Service::NubanVerify => "nuban-verify",
            Service::NubanNameVerify => "nuban-name-verify",
        }
    }

    /// Its price from the configuration, in hundredths of a credit.
    pub fn price_minor(self, config: &Config) -> i64 {
        let credits = match self {
            Service::CustomerVerify => config.price_customer_verify,
            Service::BvnVerify => config.price_bvn_verify,
            Service::NubanVerify => config.price_nuban_verify,
            Service::NubanNameVerify => config.price_nuban_name_verify,
        };
        (credits * 100.0).round() as i64
    }
}

/// Credits as the receipt shows them (a number with up to two decimals).
pub fn credits(minor: i64) -> f64 {
    minor as f64 / 100.0
}

/// What a receipt says.
pub struct ReceiptFacts<'a> {
    /// Receipt id.
    pub id: &'a str,
    /// Id of its billable-product line.
    pub line_id: &'a str,
    /// The owner charged.
    pub owner_id: &'a str,
    /// Environment of the call.
    pub env: Environment,
    /// The operation.
    pub service: Service,
    /// List price, hundredths of a credit.
    pub price_minor: i64,
    /// Charged (0 for `testing`), hundredths of a credit.
    pub charge_minor: i64,
    /// Wallet balance after the charge.
    pub balance_minor: i64,
    /// Wallet currency.
    pub currency: &'a str,
    /// The call's record.
    pub record_id: Option<&'a str>,
    /// The call's customer (none for a name enquiry that found no one).
    pub customer_id: Option<&'a str>,
    /// When (ms).
    pub at: i64,
}

/// The receipt object (`data.receipt` of the receipt envelope): every key of both reference
/// examples (customer-verify's and nuban-verify's).
pub fn receipt_object(f: &ReceiptFacts<'_>) -> Value {
    let at = okra_core::time::iso_ms(f.at);
    let (price, charge) = (credits(f.price_minor), credits(f.charge_minor));
    json!({
        "adjustment": {"receipts": []},
        "charge_breakdown": {"vat": 0},
        "breakdown": {
            "billable_product": {
                "effective_credits": charge,
                "credits": price,
                "status": true,
                "addon_products": [],
                "product": "identity",
            },
            "discount": price - charge,
            "billable_products": [{
                "effective_cost": charge,
                "cost": price,
                "status": true,
                "addon_products": [],
                "_id": f.line_id,
                "archived": false,
                "product": "identity",
            }],
            "source": "api",
            "limit": "0",
        },
        "billingStatus": true,
        "adjusted": null,
        "adjusted_receipt": false,
        "paid": true,
        "fixed": false,
        "adjusted_type": null,
        "method": "wallet",
        "charge": charge,
        "wallet_balance": credits(f.balance_minor),
        "addons": [],
        "archived": false,
        "micro_lending": false,
        "ussd_pricing": false,
        "ussd_pricing_discount": 0,
        "micro_lending_discount": 0,
        "_id": f.id,
        "plan_term": "prepaid",
        "owner": f.owner_id,
        "type": if f.service == Service::CustomerVerify { "customer-verify" } else { "api-call" },
        "billable_product": "identity",
        "currency": f.currency,
        "plan": "payg",
        "plan_type": "payg",
        "record": f.record_id,
        "customer": f.customer_id,
        "current_project": f.owner_id,
        "billable_service": f.service.name(),
        "env": crate::services::identity_profile::env_label(f.env),
        "created_at": at,
        "last_updated": at,
        "__v": 0,
    })
}

/// The receipt envelope a paid call's `data.receipt` holds.
pub fn receipt_envelope(receipt: &Value) -> Value {
    json!({
        "status": true,
        "msg": "Receipt has been successfully created",
        "data": {"receipt": receipt},
    })
}
