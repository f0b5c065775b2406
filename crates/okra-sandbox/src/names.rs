//! Names by tradition. A person's names come from one tradition, mostly (middle names sometimes
//! come from the Christian or Muslim pools, as they do in Nigeria), and the tradition decides the
//! state of origin (see `geo`). ASCII spellings without tone marks, as banks print them.

/// One naming tradition and the states its people mostly come from.
#[derive(Debug)]
pub struct Tradition {
    /// Name of the tradition, e.g. `"Yoruba"`.
    pub name: &'static str,
    /// Relative share of the population, in percent.
    pub weight: u32,
    /// Given names for men.
    pub male: &'static [&'static str],
    /// Given names for women.
    pub female: &'static [&'static str],
    /// Surnames.
    pub surnames: &'static [&'static str],
    /// States of origin (names as in `geo::STATES`).
    pub states: &'static [&'static str],
    /// True when most people of the tradition carry Muslim rather than Christian second names.
    pub mostly_muslim: bool,
}

/// Every tradition; weights sum to 100.
#[rustfmt::skip]
pub const TRADITIONS: &[Tradition] = &[
    Tradition {
        name: "Yoruba", weight: 27, mostly_muslim: false,
        male: &["Adebayo", "Oluwaseun", "Babatunde", "Olumide", "Adewale", "Oluwafemi", "Ayodele", "Olusegun", "Kayode", "Akinwale", "Oladipo", "Gbenga", "Kolawole", "Abiodun", "Olamide", "Oluwatobi", "Rotimi", "Dapo", "Yinka", "Tunde", "Femi", "Ayomide", "Tobiloba", "Ademola"],
        female: &["Folake", "Funmilayo", "Adunni", "Bukola", "Yetunde", "Omolara", "Titilayo", "Oluwakemi", "Abimbola", "Adeola", "Morenike", "Ronke", "Bisola", "Modupe", "Olufunke", "Temitope", "Damilola", "Oluwaseyi", "Toyin", "Kehinde", "Taiwo", "Adenike", "Iyabo", "Ifeoluwa"],
        surnames: &["Adeyemi", "Ogunleye", "Balogun", "Adebayo", "Olawale", "Akinola", "Ogunbiyi", "Adeleke", "Oyelaran", "Afolabi", "Ojo", "Fashola", "Oladipo", "Ogundipe", "Babalola", "Olaniyan", "Bakare", "Adekunle", "Oyinlola", "Ajayi", "Alabi", "Akande", "Salami", "Fagbemi", "Oyebanji", "Omotosho", "Adesina", "Fadahunsi"],
        states: &["Lagos", "Oyo", "Ogun", "Ondo", "Osun", "Ekiti", "Kwara"],
    },
    Tradition {
        name: "Hausa", weight: 24, mostly_muslim: true,
        male: &["Abubakar", "Ibrahim", "Musa", "Usman", "Sani", "Aliyu", "Bashir", "Umar", "Yusuf", "Abdullahi", "Muhammad", "Garba", "Haruna", "Lawal", "Nasiru", "Shehu", "Danjuma", "Kabiru", "Mustapha", "Isa", "Tijjani", "Auwal", "Jamilu", "Yakubu"],
        female: &["Aisha", "Fatima", "Zainab", "Hadiza", "Amina", "Hauwa", "Maryam", "Khadija", "Rukayya", "Safiya", "Halima", "Bilkisu", "Asmau", "Zulaihat", "Hafsat", "Jamila", "Sadiya", "Binta", "Ladi", "Rabi", "Aishatu", "Ummi", "Habiba", "Nafisa"],
        surnames: &["Bello", "Abdullahi", "Mohammed", "Yusuf", "Suleiman", "Ibrahim", "Danjuma", "Lawal", "Garba", "Shehu", "Aminu", "Bala", "Dikko", "Gambo", "Idris", "Yakubu", "Sani", "Usman", "Waziri", "Kabir", "Tanko", "Adamu", "Jibrin", "Maikano", "Danladi", "Dantata"],
        states: &["Kano", "Kaduna", "Katsina", "Sokoto", "Jigawa", "Zamfara", "Kebbi", "Bauchi", "Gombe", "Niger", "Adamawa"],
    },
    Tradition {
        name: "Igbo", weight: 21, mostly_muslim: false,
        male: &["Chukwuemeka", "Chinedu", "Obinna", "Ifeanyi", "Nnamdi", "Emeka", "Ikechukwu", "Chidi", "Uchenna", "Kelechi", "Chibuike", "Onyekachi", "Somtochukwu", "Ebuka", "Tochukwu", "Chiedozie", "Okechukwu", "Nonso", "Chukwudi", "Obiora", "Ugochukwu", "Kenechukwu"],
        female: &["Ngozi", "Chiamaka", "Adaeze", "Chinwe", "Nkechi", "Ifeoma", "Amarachi", "Chioma", "Uchechi", "Obiageli", "Ogechi", "Nneka", "Chidinma", "Adanna", "Ebere", "Ijeoma", "Oluchi", "Somadina", "Chinenye", "Ugochi", "Ozioma", "Kosisochukwu"],
        surnames: &["Okafor", "Okonkwo", "Eze", "Nwosu", "Okeke", "Obi", "Nwachukwu", "Chukwu", "Onyeka", "Agu", "Okoye", "Nwankwo", "Ezeh", "Udeh", "Obiora", "Anyanwu", "Nnaji", "Igwe", "Onwuka", "Ugwu", "Okoro", "Iwu", "Nwafor", "Ike", "Mbah", "Ezeani", "Ogbonna", "Nwokolo"],
        states: &["Anambra", "Enugu", "Imo", "Abia", "Ebonyi"],
    },
    Tradition {
        name: "Ijaw", weight: 5, mostly_muslim: false,
        male: &["Tonye", "Preye", "Timipre", "Ebikabowei", "Boma", "Tamuno", "Ayebaemi", "Dieprebi", "Perekeme", "Ebimobowei", "Owei", "Dumo", "Alaye", "Ebitimi", "Sokari", "Tari"],
        female: &["Ebiere", "Tamara", "Timiebi", "Oyintare", "Ibiba", "Seiyefa", "Tari", "Sokari", "Ebizi", "Pere", "Ebiwari", "Inemo", "Diseye", "Ebiye", "Tonbra", "Boma"],
        surnames: &["Alamieyeseigha", "Sylva", "Dickson", "Diri", "Amakiri", "Briggs", "Georgewill", "Oruwari", "Ekiyor", "Bozimo", "Ebiwei", "Kalio", "Ogoriba", "Daukoru", "Ekpemupolo", "Igali", "Okah", "Agbedi"],
        states: &["Bayelsa", "Rivers", "Delta"],
    },
    Tradition {
        name: "Edo", weight: 5, mostly_muslim: false,
        male: &["Osaro", "Osagie", "Efosa", "Eghosa", "Osahon", "Omoruyi", "Ehigie", "Osamudiamen", "Uyi", "Nosa", "Ikponmwosa", "Aisosa", "Odion", "Ehis", "Nosakhare", "Osayande"],
        female: &["Osasu", "Eki", "Omosede", "Itohan", "Isoken", "Efe", "Ivie", "Uyiosa", "Eseosa", "Adesuwa", "Osayuwamen", "Ekinadose", "Izegbuwa", "Obehi", "Ofure", "Aisosa"],
        surnames: &["Osagie", "Igbinedion", "Omoruyi", "Ogbeide", "Aigbe", "Ehigiator", "Edosomwan", "Izevbekhai", "Oviasu", "Uwaifo", "Aghedo", "Ighodaro", "Obaseki", "Oyegun", "Iyamu", "Erhabor", "Osunde", "Imasuen", "Asemota", "Ekhator"],
        states: &["Edo"],
    },
    Tradition {
        name: "Tiv", weight: 4, mostly_muslim: false,
        male: &["Terver", "Terhemba", "Msughter", "Aondona", "Tersoo", "Iorwuese", "Sesugh", "Aondofa", "Orduen", "Ternenge", "Torkuma", "Aondover", "Iorhen", "Terna"],
        female: &["Iveren", "Mnena", "Doosuur", "Nguveren", "Mwuese", "Dooshima", "Member", "Ngodoo", "Msurshima", "Aondowase", "Hembadoon", "Seember", "Ngunan", "Erdoo"],
        surnames: &["Akaa", "Ortom", "Iorfa", "Tarka", "Gemade", "Akume", "Orngu", "Shaagee", "Ayua", "Aondoakaa", "Iyorchia", "Nyitse", "Agber", "Chia", "Kwaghga", "Tyokase", "Suswam", "Ikyegh", "Torkula"],
        states: &["Benue", "Nasarawa", "Taraba"],
    },
    Tradition {
        name: "Ibibio", weight: 5, mostly_muslim: false,
        male: &["Aniekan", "Ubong", "Idongesit", "Utibe", "Ekemini", "Nsikak", "Ime", "Akaninyene", "Mfon", "Edidiong", "Kufre", "Otu", "Bassey", "Effiong", "Etim", "Okon"],
        female: &["Imaobong", "Emem", "Itoro", "Uduak", "Ini", "Arit", "Nkoyo", "Mfoniso", "Ekaette", "Affiong", "Eno", "Idara", "Ima", "Nse", "Adiaha", "Mayen"],
        surnames: &["Udo", "Akpan", "Etim", "Bassey", "Effiong", "Okon", "Ekpo", "Essien", "Inyang", "Umoh", "Udoh", "Archibong", "Edet", "Asuquo", "Ukpong", "Eyo", "Obot", "Ekanem", "Duke", "Henshaw"],
        states: &["Akwa Ibom", "Cross River"],
    },
    Tradition {
        name: "Kanuri", weight: 3, mostly_muslim: true,
        male: &["Modu", "Bukar", "Kachalla", "Kolo", "Lawan", "Mala", "Kyari", "Goni", "Ali", "Babagana", "Zanna", "Abba", "Umara", "Bulama", "Kashim", "Baba"],
        female: &["Fanna", "Yagana", "Kaltum", "Falmata", "Hauwa", "Zara", "Amina", "Aisa", "Fatima", "Yakaka", "Hajja", "Bintu", "Maimuna", "Adama", "Kellu"],
        surnames: &["Kyari", "Shettima", "Zulum", "Goni", "Monguno", "Kachallah", "Ali", "Modu", "Bukar", "Mustapha", "Gana", "Sheriff", "Bulama", "Kolo", "Umar", "Wakil", "Lawan", "Abatcha", "Mala"],
        states: &["Borno", "Yobe"],
    },
    Tradition {
        name: "Urhobo", weight: 4, mostly_muslim: false,
        male: &["Oghenekaro", "Oghenero", "Efe", "Onoriode", "Ovie", "Oghenetega", "Tega", "Ochuko", "Onome", "Ogaga", "Edafe", "Ese", "Kesiena", "Emuobo", "Ejiro"],
        female: &["Ejiro", "Ufuoma", "Onome", "Ese", "Erhuvwu", "Omonigho", "Ruona", "Ewomazino", "Oghenefejiro", "Rukevwe", "Tejiri", "Efemena", "Oghenerukevwe", "Mamuyovwi"],
        surnames: &["Ibori", "Ogboru", "Uduaghan", "Okpako", "Ejovi", "Omonigho", "Edewor", "Akpofure", "Eferakeya", "Okotie", "Otobo", "Ogbe", "Etaghene", "Agbamuche", "Emerhor", "Onosode", "Okumagba", "Mukoro", "Ovuorie"],
        states: &["Delta"],
    },
    Tradition {
        name: "Nupe", weight: 2, mostly_muslim: true,
        male: &["Ndagi", "Jiya", "Ndaman", "Kolo", "Etsu", "Nma", "Baba", "Mohammed", "Usman", "Saba", "Ndako", "Gana", "Tsado", "Shaba"],
        female: &["Nnawoye", "Fatima", "Hauwa", "Zainab", "Nnakaka", "Nnaji", "Amina", "Hadiza", "Salamatu", "Nnasoko", "Gogo", "Ramatu"],
        surnames: &["Ndagi", "Jiya", "Kolo", "Ndayako", "Bida", "Etsu", "Gana", "Tsado", "Shaba", "Ndace", "Saba", "Dzukogi", "Mamudu", "Nma", "Agaie"],
        states: &["Niger", "Kwara", "Kogi", "FCT"],
    },
];

/// Christian given names, used as first or middle names across the south and middle belt.
#[rustfmt::skip]
pub const CHRISTIAN_MALE: &[&str] = &["John", "Michael", "Peter", "Joseph", "Daniel", "David", "Samuel", "Emmanuel", "Stephen", "Paul", "Joshua", "Godwin", "Sunday", "Victor", "Anthony", "Francis", "Micheal", "Benjamin"];
/// Christian given names for women.
#[rustfmt::skip]
pub const CHRISTIAN_FEMALE: &[&str] = &["Grace", "Blessing", "Mary", "Elizabeth", "Victoria", "Esther", "Joy", "Patience", "Favour", "Gift", "Precious", "Sarah", "Ruth", "Rebecca", "Comfort", "Charity", "Deborah", "Peace"];
/// Muslim given names shared across traditions (Yoruba and Nupe Muslims carry them too).
#[rustfmt::skip]
pub const MUSLIM_MALE: &[&str] = &["Abdulrasheed", "Abdulkareem", "Mustapha", "Ibrahim", "Suleiman", "Ismail", "Abdulwahab", "Rasheed", "Kareem", "Lateef", "Mukaila", "Ahmed", "Idris", "Yusuf"];
/// Muslim given names for women.
#[rustfmt::skip]
pub const MUSLIM_FEMALE: &[&str] = &["Aminat", "Kafayat", "Rukayat", "Sekinat", "Fatimah", "Zainab", "Aishat", "Mariam", "Basirat", "Halimat", "Azeezat", "Khadijat"];

/// Words for company names.
#[rustfmt::skip]
pub const COMPANY_WORDS: &[&str] = &["Ventures", "Enterprises", "Global Services", "Agro Allied", "Investments", "Integrated Services", "Logistics", "Technologies", "Properties", "Oil and Gas", "Pharmacy", "Foods", "Construction", "Farms", "Motors", "Textiles", "Energy", "Consulting"];
/// Brand-like first words for company names that are not named after a family.
#[rustfmt::skip]
pub const COMPANY_BRANDS: &[&str] = &["Golden", "Royal", "Sunrise", "Crystal", "Divine", "Greenfield", "Mainland", "Eagle", "Bright Star", "Excel", "Unique", "Peak", "Harvest", "Riverside", "Heritage Gold", "Kingsway"];
/// Legal suffixes.
pub const COMPANY_SUFFIXES: &[&str] = &["Ltd", "Limited", "Nigeria Limited", "Nig. Ltd"];
/// E-mail domains, most common first.
pub const EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
];

/// Weighted pick of a tradition from a uniform draw in `[0, 100)`.
pub fn tradition_for(draw: u32) -> &'static Tradition {
    let mut acc = 0;
    for t in TRADITIONS {
        acc += t.weight;
        if draw < acc {
            return t;
        }
    }
    &TRADITIONS[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_lists_are_ascii() {
        assert_eq!(TRADITIONS.iter().map(|t| t.weight).sum::<u32>(), 100);
        for t in TRADITIONS {
            for n in t.male.iter().chain(t.female).chain(t.surnames) {
                assert!(n.bytes().all(|c| c.is_ascii_alphabetic()), "{n}");
            }
            for s in t.states {
                assert!(crate::geo::state(s).is_some(), "{} state {s}", t.name);
            }
        }
        assert_eq!(tradition_for(99).name, "Nupe");
        assert_eq!(tradition_for(0).name, "Yoruba");
    }
}
