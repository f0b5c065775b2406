//! The bank catalogue: every bank of docs/banks.md with Okra's own ids and slugs kept, so ids that
//! integrations stored keep working. Banks Okra did not cover get new ids of the same shape.
//!
//! Colours other than the two the spec records (Access Bank, Stanbic IBTC) are the banks' public
//! brand colours, approximated. `nip_code` is the NIBSS Instant Payment institution code.

/// What kind of institution a bank is (the `type` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankType {
    /// A deposit money bank (commercial bank).
    Bank,
    /// A microfinance bank or digital bank licensed as one.
    Microfinance,
    /// A mobile-money operator whose account numbers are phone numbers.
    MobileMoney,
}

impl BankType {
    /// The `type` value in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BankType::Bank => "bank",
            BankType::Microfinance => "microfinance",
            BankType::MobileMoney => "mobile_money",
        }
    }
}

/// The colours of a bank's brand, as Okra's widget used them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankColors {
    /// Main brand colour.
    pub primary: &'static str,
    /// Secondary colour.
    pub accent: &'static str,
    /// Background colour.
    pub bg: &'static str,
    /// Button colour.
    pub button: &'static str,
    /// Icon colour.
    pub icon: &'static str,
}

/// How a bank's account numbers are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountNumbering {
    /// 10-digit NUBAN with the CBN check digit.
    Nuban,
    /// The holder's phone number without its leading 0 (OPay, PalmPay): no check digit.
    Phone,
    /// The bank's CBN code is unknown: shape is checked, the check digit is not.
    Unchecked,
}

/// One bank of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankInfo {
    /// Okra's id (or a new one for banks Okra did not cover).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Okra's slug.
    pub slug: &'static str,
    /// CBN bank code (`sortcode` in JSON), empty when unknown.
    pub cbn_code: &'static str,
    /// NIBSS NIP institution code.
    pub nip_code: &'static str,
    /// Kind of institution.
    pub bank_type: BankType,
    /// Brand colours.
    pub colors: BankColors,
    /// How account numbers are validated.
    pub numbering: AccountNumbering,
    /// Serves individual customers.
    pub individual: bool,
    /// Serves corporate customers.
    pub corporate: bool,
}

impl BankInfo {
    /// True when `account_number` is a valid account number at this bank.
    pub fn accepts_account_number(&self, account_number: &str) -> bool {
        match self.numbering {
            AccountNumbering::Nuban => crate::nuban::is_valid_nuban(self.cbn_code, account_number),
            AccountNumbering::Phone | AccountNumbering::Unchecked => {
                crate::nuban::is_nuban_shaped(account_number)
            }
        }
    }
}

/// Products every simulated bank supports.
pub const PRODUCTS: [&str; 4] = ["auth", "identity", "balance", "accounts"];

const fn colors(primary: &'static str, accent: &'static str, button: &'static str) -> BankColors {
    BankColors {
        primary,
        accent,
        bg: "#FFFFFF",
        button,
        icon: primary,
    }
}

const fn bank(
    id: &'static str,
    name: &'static str,
    slug: &'static str,
    cbn_code: &'static str,
    nip_code: &'static str,
    colors: BankColors,
) -> BankInfo {
    BankInfo {
        id,
        name,
        slug,
        cbn_code,
        nip_code,
        bank_type: BankType::Bank,
        colors,
        numbering: AccountNumbering::Nuban,
        individual: true,
        corporate: true,
    }
}

/// Every bank, in the order `banks/list` shows them (alphabetical by name).
pub const BANKS: &[BankInfo] = &[
    bank(
        "5d6fe57a4099cc4b210bbec0",
        "Access Bank",
        "access-bank",
        "044",
        "000014",
        colors("#114185", "#114185", "#F0632B"),
    ),
    BankInfo {
        corporate: false,
        ..bank(
            "5d6fe57a4099cc4b210bbebe",
            "ALAT by Wema",
            "alat",
            "035",
            "000017",
            colors("#E0006D", "#990D81", "#E0006D"),
        )
    },
    bank(
        "e1c2a0000000000000000003",
        "Citibank Nigeria",
        "citibank-nigeria",
        "023",
        "000009",
        colors("#056DAE", "#003B70", "#056DAE"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeae",
        "Ecobank Nigeria",
        "ecobank-nigeria",
        "050",
        "000010",
        colors("#005B82", "#8DC63F", "#005B82"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb0",
        "Fidelity Bank",
        "fidelity-bank",
        "070",
        "000007",
        colors("#262262", "#8CC63F", "#262262"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb1",
        "First Bank of Nigeria",
        "first-bank-of-nigeria",
        "011",
        "000016",
        colors("#003B65", "#F6A800", "#003B65"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb2",
        "First City Monument Bank",
        "first-city-monument-bank",
        "214",
        "000003",
        colors("#5C2684", "#F7B500", "#5C2684"),
    ),
    bank(
        "e1c2a0000000000000000002",
        "Globus Bank",
        "globus-bank",
        "00103",
        "000027",
        colors("#7B2C81", "#F5A623", "#7B2C81"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb3",
        "Guaranty Trust Bank",
        "guaranty-trust-bank",
        "058",
        "000013",
        colors("#DD4F05", "#FFFFFF", "#DD4F05"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb4",
        "Heritage Bank",
        "heritage-bank",
        "030",
        "000020",
        colors("#7AB800", "#004B23", "#7AB800"),
    ),
    bank(
        "5fb906f78c486a00b987ec06",
        "Jaiz Bank",
        "jaiz-bank",
        "301",
        "000006",
        colors("#006838", "#C49A2C", "#006838"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeba",
        "Keystone Bank",
        "keystone-bank",
        "082",
        "000002",
        colors("#004990", "#00A3E0", "#004990"),
    ),
    BankInfo {
        bank_type: BankType::Microfinance,
        corporate: false,
        ..bank(
            "5f0cf73e8a8bcc18b8156ad7",
            "Kuda Bank",
            "kuda-bank",
            "50211",
            "090267",
            colors("#40196D", "#8E5BD8", "#40196D"),
        )
    },
    BankInfo {
        bank_type: BankType::Microfinance,
        ..bank(
            "e1c2a0000000000000000001",
            "Moniepoint MFB",
            "moniepoint-mfb",
            "50515",
            "090405",
            colors("#0357EE", "#01B0F1", "#0357EE"),
        )
    },
    BankInfo {
        bank_type: BankType::MobileMoney,
        numbering: AccountNumbering::Phone,
        corporate: false,
        ..bank(
            "e1c2a0000000000000000004",
            "OPay",
            "opay",
            "999992",
            "100004",
            colors("#1DCF9F", "#0A3D2E", "#1DCF9F"),
        )
    },
    BankInfo {
        bank_type: BankType::MobileMoney,
        numbering: AccountNumbering::Phone,
        corporate: false,
        ..bank(
            "e1c2a0000000000000000005",
            "PalmPay",
            "palmpay",
            "999991",
            "100033",
            colors("#6B38FB", "#FFB800", "#6B38FB"),
        )
    },
    bank(
        "5d6fe57a4099cc4b210bbeb5",
        "Polaris Bank",
        "polaris-bank",
        "076",
        "000008",
        colors("#6F2C91", "#00A3AD", "#6F2C91"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbebf",
        "Providus Bank",
        "providus-bank",
        "101",
        "000023",
        colors("#FDB913", "#231F20", "#231F20"),
    ),
    BankInfo {
        bank_type: BankType::Microfinance,
        numbering: AccountNumbering::Unchecked,
        ..bank(
            "5f11487e847b28538bfc6c5f",
            "Rubies Bank",
            "rubies-bank",
            "",
            "090175",
            colors("#C8102E", "#2B2B2B", "#C8102E"),
        )
    },
    bank(
        "5d6fe57a4099cc4b210bbeb6",
        "Stanbic IBTC Bank",
        "stanbic-ibtc-bank",
        "221",
        "000012",
        colors("#00529B", "#00A1E4", "#00529B"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb7",
        "Standard Chartered Bank",
        "standard-chartered-bank",
        "068",
        "000021",
        colors("#0473EA", "#38D200", "#0473EA"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb8",
        "Sterling Bank",
        "sterling-bank",
        "232",
        "000001",
        colors("#DB353A", "#6D6E71", "#DB353A"),
    ),
    bank(
        "610080715958c61031f37737",
        "Titan Trust Bank",
        "titan-trust-bank",
        "102",
        "000025",
        colors("#2E3192", "#EC1C24", "#2E3192"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbeb9",
        "Union Bank of Nigeria",
        "union-bank-of-nigeria",
        "032",
        "000018",
        colors("#00AEEF", "#003B5C", "#00AEEF"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbebb",
        "United Bank for Africa",
        "united-bank-for-africa",
        "033",
        "000004",
        colors("#D42E12", "#000000", "#D42E12"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbebd",
        "Unity Bank",
        "unity-bank",
        "215",
        "000011",
        colors("#8DC63F", "#005D30", "#8DC63F"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbebc",
        "Wema Bank",
        "wema-bank",
        "035",
        "000017",
        colors("#990D81", "#E0006D", "#990D81"),
    ),
    bank(
        "5d6fe57a4099cc4b210bbec2",
        "Zenith Bank",
        "zenith-bank",
        "057",
        "000015",
        colors("#E30613", "#3D3D3D", "#E30613"),
    ),
];

/// Looks a bank up by its CBN code (`044`), as identity registries name enrollment banks.
pub fn find_by_code(code: &str) -> Option<&'static BankInfo> {
    let key = code.trim();
    BANKS
        .iter()
        .find(|b| !b.cbn_code.is_empty() && b.cbn_code == key)
}

/// Looks a bank up by id or slug (the forms clients send).
pub fn find(id_or_slug: &str) -> Option<&'static BankInfo> {
    let key = id_or_slug.trim();
    BANKS
        .iter()
        .find(|b| b.id.eq_ignore_ascii_case(key) || b.slug.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_is_consistent() {
        let ids: HashSet<_> = BANKS.iter().map(|b| b.id).collect();
        let slugs: HashSet<_> = BANKS.iter().map(|b| b.slug).collect();
        assert_eq!(ids.len(), BANKS.len());
        assert_eq!(slugs.len(), BANKS.len());
        for b in BANKS {
            assert!(crate::ObjectId::is_valid(b.id), "{}", b.slug);
            assert!(b.colors.primary.starts_with('#') && b.colors.primary.len() == 7);
            if b.numbering == AccountNumbering::Nuban {
                assert!(
                    crate::nuban::make_nuban(b.cbn_code, "000001457").is_some(),
                    "{}",
                    b.slug
                );
            }
        }
        let mut names: Vec<_> = BANKS.iter().map(|b| b.name.to_lowercase()).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort();
            s
        };
        assert_eq!(names, sorted, "BANKS is sorted by name");
        names.dedup();
        assert_eq!(names.len(), BANKS.len());
    }

    #[test]
    fn okra_ids_and_slugs_from_banks_md_are_kept() {
        let expected = [
            ("5d6fe57a4099cc4b210bbec0", "access-bank", "044"),
            ("5d6fe57a4099cc4b210bbebe", "alat", "035"),
            ("5d6fe57a4099cc4b210bbeae", "ecobank-nigeria", "050"),
            ("5d6fe57a4099cc4b210bbeb0", "fidelity-bank", "070"),
            ("5d6fe57a4099cc4b210bbeb1", "first-bank-of-nigeria", "011"),
            (
                "5d6fe57a4099cc4b210bbeb2",
                "first-city-monument-bank",
                "214",
            ),
            ("5d6fe57a4099cc4b210bbeb3", "guaranty-trust-bank", "058"),
            ("5d6fe57a4099cc4b210bbeb4", "heritage-bank", "030"),
            ("5d6fe57a4099cc4b210bbeb5", "polaris-bank", "076"),
            ("5d6fe57a4099cc4b210bbeb6", "stanbic-ibtc-bank", "221"),
            ("5d6fe57a4099cc4b210bbeb7", "standard-chartered-bank", "068"),
            ("5d6fe57a4099cc4b210bbeb8", "sterling-bank", "232"),
            ("5d6fe57a4099cc4b210bbeb9", "union-bank-of-nigeria", "032"),
            ("5d6fe57a4099cc4b210bbeba", "keystone-bank", "082"),
            ("5d6fe57a4099cc4b210bbebb", "united-bank-for-africa", "033"),
            ("5d6fe57a4099cc4b210bbebc", "wema-bank", "035"),
            ("5d6fe57a4099cc4b210bbebd", "unity-bank", "215"),
            ("5d6fe57a4099cc4b210bbebf", "providus-bank", "101"),
            ("5d6fe57a4099cc4b210bbec2", "zenith-bank", "057"),
            ("5f0cf73e8a8bcc18b8156ad7", "kuda-bank", "50211"),
            ("5f11487e847b28538bfc6c5f", "rubies-bank", ""),
            ("5fb906f78c486a00b987ec06", "jaiz-bank", "301"),
            ("610080715958c61031f37737", "titan-trust-bank", "102"),
        ];
        for (id, slug, code) in expected {
            let b = find(id).unwrap_or_else(|| panic!("{slug} missing"));
            assert_eq!((b.slug, b.cbn_code), (slug, code));
            assert_eq!(find(slug).unwrap().id, id);
        }
        for (slug, code) in [
            ("moniepoint-mfb", "50515"),
            ("globus-bank", "00103"),
            ("citibank-nigeria", "023"),
            ("opay", "999992"),
            ("palmpay", "999991"),
        ] {
            assert_eq!(find(slug).unwrap().cbn_code, code);
        }
        assert_eq!(BANKS.len(), 28);
        let access = find("access-bank").unwrap();
        assert_eq!(
            (
                access.colors.primary,
                access.colors.accent,
                access.colors.button
            ),
            ("#114185", "#114185", "#F0632B")
        );
        assert_eq!(find("stanbic-ibtc-bank").unwrap().colors.primary, "#00529B");
    }

    #[test]
    fn account_numbers_per_bank() {
        let gtb = find("guaranty-trust-bank").unwrap();
        let n = crate::nuban::make_nuban("058", "012345678").unwrap();
        assert!(gtb.accepts_account_number(&n));
        let opay = find("opay").unwrap();
        assert!(opay.accepts_account_number("8031234567"));
        assert!(find("rubies-bank")
            .unwrap()
            .accepts_account_number("1234567890"));
    }
}
