//! Nigerian geography and telephony: the 36 states and the FCT with real local government areas,
//! the streets addresses use, and the mobile network prefixes phone numbers start with.

/// A state (or the FCT) and some of its real LGAs.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    /// Short name, e.g. `"Oyo"` (`"FCT"` for the Federal Capital Territory).
    pub name: &'static str,
    /// The name as identities show it, e.g. `"Oyo State"`.
    pub display: &'static str,
    /// Real local government areas of the state.
    pub lgas: &'static [&'static str],
}

/// Every state and the FCT.
#[rustfmt::skip]
pub const STATES: &[State] = &[
    State { name: "Abia", display: "Abia State", lgas: &["Aba North", "Aba South", "Umuahia North", "Umuahia South", "Ohafia", "Arochukwu", "Bende", "Isiala Ngwa North"] },
    State { name: "Adamawa", display: "Adamawa State", lgas: &["Yola North", "Yola South", "Mubi North", "Mubi South", "Numan", "Ganye", "Hong", "Girei"] },
    State { name: "Akwa Ibom", display: "Akwa Ibom State", lgas: &["Uyo", "Eket", "Ikot Ekpene", "Oron", "Abak", "Itu", "Ibesikpo Asutan", "Etinan"] },
    State { name: "Anambra", display: "Anambra State", lgas: &["Awka South", "Awka North", "Onitsha North", "Onitsha South", "Nnewi North", "Idemili North", "Aguata", "Ogbaru"] },
    State { name: "Bauchi", display: "Bauchi State", lgas: &["Bauchi", "Katagum", "Misau", "Ningi", "Toro", "Alkaleri", "Dass", "Tafawa Balewa"] },
    State { name: "Bayelsa", display: "Bayelsa State", lgas: &["Yenagoa", "Brass", "Ekeremor", "Kolokuma/Opokuma", "Nembe", "Ogbia", "Sagbama", "Southern Ijaw"] },
    State { name: "Benue", display: "Benue State", lgas: &["Makurdi", "Gboko", "Otukpo", "Katsina-Ala", "Vandeikya", "Guma", "Kwande", "Ushongo"] },
    State { name: "Borno", display: "Borno State", lgas: &["Maiduguri", "Jere", "Konduga", "Bama", "Biu", "Monguno", "Gwoza", "Dikwa"] },
    State { name: "Cross River", display: "Cross River State", lgas: &["Calabar Municipal", "Calabar South", "Akpabuyo", "Ikom", "Ogoja", "Obudu", "Odukpani", "Yakurr"] },
    State { name: "Delta", display: "Delta State", lgas: &["Warri South", "Warri North", "Uvwie", "Ughelli North", "Ethiope East", "Sapele", "Oshimili South", "Isoko South", "Okpe", "Burutu"] },
    State { name: "Ebonyi", display: "Ebonyi State", lgas: &["Abakaliki", "Afikpo North", "Ezza North", "Ikwo", "Ohaukwu", "Onicha", "Ishielu", "Ivo"] },
    State { name: "Edo", display: "Edo State", lgas: &["Oredo", "Egor", "Ikpoba-Okha", "Ovia North-East", "Esan West", "Etsako West", "Uhunmwonde", "Orhionmwon"] },
    State { name: "Ekiti", display: "Ekiti State", lgas: &["Ado Ekiti", "Ikere", "Ijero", "Oye", "Ekiti West", "Efon", "Ido-Osi", "Irepodun/Ifelodun"] },
    State { name: "Enugu", display: "Enugu State", lgas: &["Enugu North", "Enugu South", "Enugu East", "Nsukka", "Udi", "Awgu", "Oji River", "Nkanu West"] },
    State { name: "FCT", display: "Federal Capital Territory", lgas: &["Abuja Municipal", "Bwari", "Gwagwalada", "Kuje", "Kwali", "Abaji"] },
    State { name: "Gombe", display: "Gombe State", lgas: &["Gombe", "Akko", "Billiri", "Kaltungo", "Dukku", "Funakaye", "Yamaltu/Deba", "Nafada"] },
    State { name: "Imo", display: "Imo State", lgas: &["Owerri Municipal", "Owerri North", "Owerri West", "Okigwe", "Orlu", "Aboh Mbaise", "Mbaitoli", "Oguta"] },
    State { name: "Jigawa", display: "Jigawa State", lgas: &["Dutse", "Hadejia", "Gumel", "Kazaure", "Ringim", "Birnin Kudu", "Gwaram", "Kiyawa"] },
    State { name: "Kaduna", display: "Kaduna State", lgas: &["Kaduna North", "Kaduna South", "Zaria", "Sabon Gari", "Chikun", "Igabi", "Jema'a", "Kauru", "Giwa"] },
    State { name: "Kano", display: "Kano State", lgas: &["Kano Municipal", "Nassarawa", "Fagge", "Dala", "Gwale", "Tarauni", "Ungogo", "Kumbotso", "Wudil"] },
    State { name: "Katsina", display: "Katsina State", lgas: &["Katsina", "Daura", "Funtua", "Malumfashi", "Kankia", "Dutsin-Ma", "Bakori", "Mani"] },
    State { name: "Kebbi", display: "Kebbi State", lgas: &["Birnin Kebbi", "Argungu", "Yauri", "Zuru", "Jega", "Koko/Besse", "Bagudo", "Gwandu"] },
    State { name: "Kogi", display: "Kogi State", lgas: &["Lokoja", "Okene", "Idah", "Ankpa", "Dekina", "Kabba/Bunu", "Ijumu", "Ofu"] },
    State { name: "Kwara", display: "Kwara State", lgas: &["Ilorin West", "Ilorin East", "Ilorin South", "Offa", "Oyun", "Asa", "Irepodun", "Moro"] },
    State { name: "Lagos", display: "Lagos State", lgas: &["Ikeja", "Alimosho", "Eti-Osa", "Surulere", "Lagos Island", "Lagos Mainland", "Kosofe", "Ikorodu", "Oshodi-Isolo", "Mushin", "Epe", "Badagry", "Agege", "Apapa", "Ojo"] },
    State { name: "Nasarawa", display: "Nasarawa State", lgas: &["Lafia", "Keffi", "Akwanga", "Karu", "Nasarawa", "Doma", "Obi", "Wamba"] },
    State { name: "Niger", display: "Niger State", lgas: &["Bosso", "Chanchaga", "Bida", "Suleja", "Kontagora", "Lapai", "Agaie", "Mokwa"] },
    State { name: "Ogun", display: "Ogun State", lgas: &["Abeokuta North", "Abeokuta South", "Ijebu Ode", "Sagamu", "Ado-Odo/Ota", "Ifo", "Ikenne", "Odeda"] },
    State { name: "Ondo", display: "Ondo State", lgas: &["Akure South", "Akure North", "Ondo West", "Owo", "Okitipupa", "Ilaje", "Idanre", "Ifedore"] },
    State { name: "Osun", display: "Osun State", lgas: &["Osogbo", "Olorunda", "Ife Central", "Ilesa East", "Ede North", "Iwo", "Ifelodun", "Ila"] },
    State { name: "Oyo", display: "Oyo State", lgas: &["Ibadan North", "Ibadan South-West", "Ibadan North-East", "Ogbomosho North", "Oyo East", "Iseyin", "Saki West", "Egbeda", "Akinyele"] },
    State { name: "Plateau", display: "Plateau State", lgas: &["Jos North", "Jos South", "Jos East", "Barkin Ladi", "Pankshin", "Shendam", "Mangu", "Langtang North"] },
    State { name: "Rivers", display: "Rivers State", lgas: &["Port Harcourt", "Obio/Akpor", "Eleme", "Okrika", "Bonny", "Degema", "Ikwerre", "Oyigbo", "Khana", "Abua/Odual"] },
    State { name: "Sokoto", display: "Sokoto State", lgas: &["Sokoto North", "Sokoto South", "Wamako", "Tambuwal", "Gwadabawa", "Bodinga", "Illela", "Wurno"] },
    State { name: "Taraba", display: "Taraba State", lgas: &["Jalingo", "Wukari", "Takum", "Bali", "Gashaka", "Sardauna", "Zing", "Ibi"] },
    State { name: "Yobe", display: "Yobe State", lgas: &["Damaturu", "Potiskum", "Nguru", "Bade", "Geidam", "Fika", "Fune", "Gujba"] },
    State { name: "Zamfara", display: "Zamfara State", lgas: &["Gusau", "Kaura Namoda", "Talata Mafara", "Anka", "Bungudu", "Maru", "Tsafe", "Zurmi"] },
];

/// Where people who left their state of origin live, with weights: the big cities.
pub const MIGRATION: &[(&str, u32)] = &[
    ("Lagos", 34),
    ("FCT", 20),
    ("Rivers", 10),
    ("Oyo", 7),
    ("Ogun", 8),
    ("Kano", 7),
    ("Kaduna", 5),
    ("Enugu", 5),
    ("Edo", 4),
];

/// Generic street names found in towns all over the country.
#[rustfmt::skip]
pub const STREETS: &[&str] = &["Market Road", "Station Road", "Hospital Road", "Stadium Road", "Church Street", "Mosque Road", "Airport Road", "Bank Road", "School Road", "Court Road", "Old Road", "New Layout Road", "Palace Road", "Unity Avenue", "Independence Way", "Secretariat Road"];
/// Street kinds for streets named after people.
pub const STREET_KINDS: &[&str] = &["Street", "Street", "Close", "Avenue", "Crescent", "Road"];

/// Mobile network prefixes (NCC allocations) with their operator.
pub const PHONE_PREFIXES: &[(&str, &str)] = &[
    ("0803", "MTN"),
    ("0806", "MTN"),
    ("0813", "MTN"),
    ("0816", "MTN"),
    ("0703", "MTN"),
    ("0706", "MTN"),
    ("0903", "MTN"),
    ("0906", "MTN"),
    ("0805", "Glo"),
    ("0807", "Glo"),
    ("0815", "Glo"),
    ("0811", "Glo"),
    ("0905", "Glo"),
    ("0802", "Airtel"),
    ("0808", "Airtel"),
    ("0812", "Airtel"),
    ("0701", "Airtel"),
    ("0902", "Airtel"),
    ("0901", "Airtel"),
    ("0907", "Airtel"),
    ("0809", "9mobile"),
    ("0817", "9mobile"),
    ("0818", "9mobile"),
    ("0909", "9mobile"),
    ("0908", "9mobile"),
];

/// Looks a state up by short name.
pub fn state(name: &str) -> Option<&'static State> {
    STATES.iter().find(|s| s.name == name)
}

/// The state whose display name is `display` (the form identities carry).
pub fn state_by_display(display: &str) -> Option<&'static State> {
    STATES.iter().find(|s| s.display == display)
}

/// The number of a phone's operator, or `None` when the prefix is not a mobile one.
pub fn operator(phone: &str) -> Option<&'static str> {
    if phone.len() != 11 || !phone.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    PHONE_PREFIXES
        .iter()
        .find(|(p, _)| phone.starts_with(p))
        .map(|(_, op)| *op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_six_states_and_the_fct() {
        assert_eq!(STATES.len(), 37);
        let mut names: Vec<_> = STATES.iter().map(|s| s.name).collect();
        names.dedup();
        assert_eq!(names.len(), 37);
        assert!(STATES.iter().all(|s| s.lgas.len() >= 6));
        for (s, _) in MIGRATION {
            assert!(state(s).is_some());
        }
        assert_eq!(operator("08031234567"), Some("MTN"));
        assert_eq!(operator("08041234567"), None);
        assert_eq!(PHONE_PREFIXES.len(), 25);
    }
}
