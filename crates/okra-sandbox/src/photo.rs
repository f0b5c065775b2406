//! Registry photos: a generated SVG avatar per person, so identities carry a `photo_id` that the
//! server can serve without storing images or loading anything from elsewhere.

use crate::permute::hash;
use crate::person::Person;

const SKIN: &[&str] = &[
    "#8D5524", "#6B4423", "#5C3A1E", "#A0673A", "#4A2C17", "#7A4B2A",
];
const HAIR: &[&str] = &["#1B1B1B", "#2B1D14", "#111111", "#3A2A1F"];
const BACKGROUND: &[&str] = &[
    "#DCE8F5", "#E8F0E0", "#F3E6D8", "#E6E0F0", "#F0E0E6", "#E0F0EE",
];
const CLOTHES: &[&str] = &[
    "#114185", "#0A7A3E", "#8B1E3F", "#D97706", "#4B5563", "#6D28D9",
];

fn pick(seed: u64, index: u64, purpose: u64, items: &[&'static str]) -> &'static str {
    items[(hash(&[seed, index, 0xF0_70, purpose]) % items.len() as u64) as usize]
}

/// A 240×300 passport-style SVG of `person` (a woman gets a head-tie, a man short hair).
pub fn svg(seed: u64, person: &Person) -> String {
    let i = person.index;
    let skin = pick(seed, i, 1, SKIN);
    let hair = pick(seed, i, 2, HAIR);
    let bg = pick(seed, i, 3, BACKGROUND);
    let clothes = pick(seed, i, 4, CLOTHES);
    let headwear = if person.female {
        let gele = pick(seed, i, 5, CLOTHES);
        format!(
            r##"<path d="M62 112 Q120 22 178 112 Q190 80 160 60 Q120 30 80 60 Q50 80 62 112Z" fill="{gele}"/><ellipse cx="120" cy="58" rx="50" ry="26" fill="{gele}"/>"##
        )
    } else {
        format!(
            r##"<path d="M72 112 Q70 58 120 54 Q170 58 168 112 Q160 80 120 78 Q80 80 72 112Z" fill="{hair}"/>"##
        )
    };
    let initials: String = [&person.firstname, &person.lastname]
        .iter()
        .filter_map(|n| n.chars().next())
        .collect();
    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="300" viewBox="0 0 240 300" role="img" aria-label="{alt}">"##,
            r##"<rect width="240" height="300" fill="{bg}"/>"##,
            r##"<path d="M30 300 Q30 210 120 205 Q210 210 210 300Z" fill="{clothes}"/>"##,
            r##"<rect x="104" y="170" width="32" height="42" rx="8" fill="{skin}"/>"##,
            r##"<ellipse cx="120" cy="125" rx="50" ry="60" fill="{skin}"/>"##,
            r##"<ellipse cx="100" cy="120" rx="6" ry="4" fill="#1B1B1B"/><ellipse cx="140" cy="120" rx="6" ry="4" fill="#1B1B1B"/>"##,
            r##"<path d="M104 155 Q120 165 136 155" stroke="#3B1F10" stroke-width="3" fill="none"/>"##,
            "{headwear}",
            r##"<text x="228" y="290" font-family="sans-serif" font-size="14" text-anchor="end" fill="#555">{initials}</text>"##,
            "</svg>"
        ),
        alt = "Sandbox BVN photo",
        bg = bg,
        clothes = clothes,
        skin = skin,
        headwear = headwear,
        initials = initials,
    )
}
