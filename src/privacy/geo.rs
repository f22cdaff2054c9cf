//! Coarse location and screen classes (privacy rule 3): the country comes from the
//! browser's IANA time zone, never from the IP address, and the screen width becomes one
//! of four classes.
//!
//! The country table is tzdata's `zone.tab` (copied next to this file, ISO 3166 alpha-2
//! code per zone), parsed once on first use. `chrono-tz` knows the legacy link names
//! browsers still report (Chrome says "Asia/Calcutta", Firefox "Asia/Kolkata") but does
//! not expose which zone a link points to, so `ALIASES` maps every link name that
//! `chrono-tz` accepts and `zone.tab` lacks to a zone of the same country.

use std::collections::HashMap;
use std::sync::OnceLock;

/// tzdata's `zone.tab` (version 2025b): `country<TAB>coordinates<TAB>zone[<TAB>comment]`.
const ZONE_TAB: &str = include_str!("zone.tab");

/// Legacy and backward-compatible zone names (tzdata's `backward` links) that are not
/// rows of `zone.tab`, each mapped to a `zone.tab` zone in the same country. Taken from
/// tzdata 2025b's links, except where the link crosses a border for time-keeping
/// reasons only (for example "Pacific/Truk", a link to Port Moresby, is in Micronesia
/// and maps to "Pacific/Chuuk"; "Iceland", a link to Abidjan, maps to Reykjavik).
/// Names without a country ("UTC", "Etc/GMT+5", "EST5EDT", ...) are deliberately absent.
const ALIASES: &[(&str, &str)] = &[
    ("Africa/Asmera", "Africa/Asmara"),
    ("Africa/Timbuktu", "Africa/Bamako"),
    ("America/Argentina/ComodRivadavia", "America/Argentina/Catamarca"),
    ("America/Atka", "America/Adak"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Coral_Harbour", "America/Atikokan"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Ensenada", "America/Tijuana"),
    ("America/Fort_Wayne", "America/Indiana/Indianapolis"),
    ("America/Godthab", "America/Nuuk"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Knox_IN", "America/Indiana/Knox"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("America/Montreal", "America/Toronto"),
    ("America/Nipigon", "America/Toronto"),
    ("America/Pangnirtung", "America/Iqaluit"),
    ("America/Porto_Acre", "America/Rio_Branco"),
    ("America/Rainy_River", "America/Winnipeg"),
    ("America/Rosario", "America/Argentina/Cordoba"),
    ("America/Santa_Isabel", "America/Tijuana"),
    ("America/Shiprock", "America/Denver"),
    ("America/Thunder_Bay", "America/Toronto"),
    ("America/Virgin", "America/St_Thomas"),
    ("America/Yellowknife", "America/Edmonton"),
    ("Antarctica/South_Pole", "Antarctica/McMurdo"),
    ("Asia/Ashkhabad", "Asia/Ashgabat"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Choibalsan", "Asia/Ulaanbaatar"),
    ("Asia/Chongqing", "Asia/Shanghai"),
    ("Asia/Chungking", "Asia/Shanghai"),
    ("Asia/Dacca", "Asia/Dhaka"),
    ("Asia/Harbin", "Asia/Shanghai"),
    ("Asia/Istanbul", "Europe/Istanbul"),
    ("Asia/Kashgar", "Asia/Urumqi"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Macao", "Asia/Macau"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Asia/Tel_Aviv", "Asia/Jerusalem"),
    ("Asia/Thimbu", "Asia/Thimphu"),
    ("Asia/Ujung_Pandang", "Asia/Makassar"),
    ("Asia/Ulan_Bator", "Asia/Ulaanbaatar"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Atlantic/Jan_Mayen", "Arctic/Longyearbyen"),
    ("Australia/ACT", "Australia/Sydney"),
    ("Australia/Canberra", "Australia/Sydney"),
    ("Australia/Currie", "Australia/Hobart"),
    ("Australia/LHI", "Australia/Lord_Howe"),
    ("Australia/NSW", "Australia/Sydney"),
    ("Australia/North", "Australia/Darwin"),
    ("Australia/Queensland", "Australia/Brisbane"),
    ("Australia/South", "Australia/Adelaide"),
    ("Australia/Tasmania", "Australia/Hobart"),
    ("Australia/Victoria", "Australia/Melbourne"),
    ("Australia/West", "Australia/Perth"),
    ("Australia/Yancowinna", "Australia/Broken_Hill"),
    ("Brazil/Acre", "America/Rio_Branco"),
    ("Brazil/DeNoronha", "America/Noronha"),
    ("Brazil/East", "America/Sao_Paulo"),
    ("Brazil/West", "America/Manaus"),
    ("Canada/Atlantic", "America/Halifax"),
    ("Canada/Central", "America/Winnipeg"),
    ("Canada/Eastern", "America/Toronto"),
    ("Canada/Mountain", "America/Edmonton"),
    ("Canada/Newfoundland", "America/St_Johns"),
    ("Canada/Pacific", "America/Vancouver"),
    ("Canada/Saskatchewan", "America/Regina"),
    ("Canada/Yukon", "America/Whitehorse"),
    ("Chile/Continental", "America/Santiago"),
    ("Chile/EasterIsland", "Pacific/Easter"),
    ("Cuba", "America/Havana"),
    ("Egypt", "Africa/Cairo"),
    ("Eire", "Europe/Dublin"),
    ("Europe/Belfast", "Europe/London"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("Europe/Nicosia", "Asia/Nicosia"),
    ("Europe/Tiraspol", "Europe/Chisinau"),
    ("Europe/Uzhgorod", "Europe/Kyiv"),
    ("Europe/Zaporozhye", "Europe/Kyiv"),
    ("GB", "Europe/London"),
    ("GB-Eire", "Europe/London"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Iceland", "Atlantic/Reykjavik"),
    ("Iran", "Asia/Tehran"),
    ("Israel", "Asia/Jerusalem"),
    ("Jamaica", "America/Jamaica"),
    ("Japan", "Asia/Tokyo"),
    ("Kwajalein", "Pacific/Kwajalein"),
    ("Libya", "Africa/Tripoli"),
    ("Mexico/BajaNorte", "America/Tijuana"),
    ("Mexico/BajaSur", "America/Mazatlan"),
    ("Mexico/General", "America/Mexico_City"),
    ("NZ", "Pacific/Auckland"),
    ("NZ-CHAT", "Pacific/Chatham"),
    ("Navajo", "America/Denver"),
    ("PRC", "Asia/Shanghai"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Johnston", "Pacific/Midway"),
    ("Pacific/Ponape", "Pacific/Pohnpei"),
    ("Pacific/Samoa", "Pacific/Pago_Pago"),
    ("Pacific/Truk", "Pacific/Chuuk"),
    ("Pacific/Yap", "Pacific/Chuuk"),
    ("Poland", "Europe/Warsaw"),
    ("Portugal", "Europe/Lisbon"),
    ("ROC", "Asia/Taipei"),
    ("ROK", "Asia/Seoul"),
    ("Singapore", "Asia/Singapore"),
    ("Turkey", "Europe/Istanbul"),
    ("US/Alaska", "America/Anchorage"),
    ("US/Aleutian", "America/Adak"),
    ("US/Arizona", "America/Phoenix"),
    ("US/Central", "America/Chicago"),
    ("US/East-Indiana", "America/Indiana/Indianapolis"),
    ("US/Eastern", "America/New_York"),
    ("US/Hawaii", "Pacific/Honolulu"),
    ("US/Indiana-Starke", "America/Indiana/Knox"),
    ("US/Michigan", "America/Detroit"),
    ("US/Mountain", "America/Denver"),
    ("US/Pacific", "America/Los_Angeles"),
    ("US/Samoa", "Pacific/Pago_Pago"),
    ("W-SU", "Europe/Moscow"),
];

/// The ISO 3166 alpha-2 country code for an IANA time zone name such as
/// "Europe/London" ("GB") or the legacy "Asia/Calcutta" ("IN"), or "" when the zone is
/// unknown or belongs to no single country ("UTC", "Etc/GMT+5").
pub fn country_for_timezone(tz: &str) -> &'static str {
    countries().get(tz).copied().unwrap_or("")
}

/// The screen classes [`screen_class`] gives, narrowest first.
pub const SCREEN_CLASSES: [&str; 4] = ["mobile", "tablet", "laptop", "desktop"];

/// The screen class for a viewport or screen width in CSS pixels: "" when unknown (0),
/// "mobile" below 576, "tablet" below 992, "laptop" below 1440, else "desktop".
pub fn screen_class(width: u32) -> &'static str {
    match width {
        0 => "",
        1..576 => SCREEN_CLASSES[0],
        576..992 => SCREEN_CLASSES[1],
        992..1440 => SCREEN_CLASSES[2],
        _ => SCREEN_CLASSES[3],
    }
}

fn countries() -> &'static HashMap<&'static str, &'static str> {
    static COUNTRIES: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    COUNTRIES.get_or_init(|| {
        let mut map: HashMap<&'static str, &'static str> = ZONE_TAB
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut columns = line.split('\t');
                let country = columns.next()?;
                let _coordinates = columns.next()?;
                let zone = columns.next()?;
                Some((zone, country))
            })
            .collect();
        for (alias, zone) in ALIASES {
            if let Some(country) = map.get(zone).copied() {
                map.entry(alias).or_insert(country);
            }
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_come_from_zone_tab_and_aliases() {
        let cases: &[(&str, &str)] = &[
            ("Europe/London", "GB"),
            ("America/New_York", "US"),
            ("Asia/Kolkata", "IN"),
            ("Asia/Calcutta", "IN"),
            ("Australia/Sydney", "AU"),
            ("Europe/Kyiv", "UA"),
            ("Europe/Kiev", "UA"),
            ("US/Eastern", "US"),
            ("Asia/Saigon", "VN"),
            ("America/Buenos_Aires", "AR"),
            ("Europe/Vatican", "VA"),
            ("Arctic/Longyearbyen", "SJ"),
            ("Pacific/Truk", "FM"),
            ("Iceland", "IS"),
            ("Africa/Asmera", "ER"),
            ("Europe/Berlin", "DE"),
            ("Asia/Tokyo", "JP"),
            ("America/Sao_Paulo", "BR"),
            ("UTC", ""),
            ("Etc/UTC", ""),
            ("Etc/GMT+5", ""),
            ("EST5EDT", ""),
            ("Nowhere/Zone", ""),
            ("europe/london", ""),
            ("", ""),
        ];
        for (tz, want) in cases {
            assert_eq!(country_for_timezone(tz), *want, "zone {tz:?}");
        }
    }

    #[test]
    fn every_zone_tab_row_is_loaded() {
        let rows = ZONE_TAB.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(rows, 418);
        assert_eq!(countries().len(), rows + ALIASES.len());
    }

    #[test]
    fn every_alias_points_to_a_zone_tab_zone() {
        for (alias, zone) in ALIASES {
            assert!(countries().contains_key(zone), "{alias} -> {zone} is not in zone.tab");
            assert!(
                !ZONE_TAB.lines().any(|l| l.split('\t').nth(2) == Some(alias)),
                "{alias} is already a zone.tab row"
            );
        }
    }

    #[test]
    fn every_chrono_tz_zone_has_a_country_unless_it_has_none() {
        for tz in chrono_tz::TZ_VARIANTS {
            let name = tz.name();
            let countryless = name.starts_with("Etc/")
                || matches!(
                    name,
                    "CET"
                        | "CST6CDT"
                        | "EET"
                        | "EST"
                        | "EST5EDT"
                        | "Factory"
                        | "GMT"
                        | "GMT+0"
                        | "GMT-0"
                        | "GMT0"
                        | "Greenwich"
                        | "HST"
                        | "MET"
                        | "MST"
                        | "MST7MDT"
                        | "PST8PDT"
                        | "UCT"
                        | "UTC"
                        | "Universal"
                        | "WET"
                        | "Zulu"
                );
            assert_eq!(country_for_timezone(name).is_empty(), countryless, "zone {name}");
        }
    }

    #[test]
    fn screen_classes_follow_the_breakpoints() {
        let cases: &[(u32, &str)] = &[
            (0, ""),
            (1, "mobile"),
            (375, "mobile"),
            (575, "mobile"),
            (576, "tablet"),
            (991, "tablet"),
            (992, "laptop"),
            (1439, "laptop"),
            (1440, "desktop"),
            (3840, "desktop"),
            (u32::MAX, "desktop"),
        ];
        for (width, want) in cases {
            assert_eq!(screen_class(*width), *want, "width {width}");
        }
    }
}
