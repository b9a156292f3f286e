//! The admin API's endpoint types: central-ledger's seed, looked up as its database looks them
//! up.

use super::*;

#[test]
fn the_seeded_endpoint_types_are_known_case_insensitively() {
    assert_eq!(ENDPOINT_TYPES.len(), 62);
    for (name, _) in ENDPOINT_TYPES {
        assert_eq!(endpoint_type(name), Some(name));
    }
    for name in [
        "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR",
        "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET",
        "FSPIOP_CALLBACK_URL_PARTICIPANT_DELETE",
        "TP_CB_URL_SERVICES_PUT_ERROR",
    ] {
        assert_eq!(endpoint_type(name), Some(name));
    }
    assert_eq!(
        endpoint_type("fspiop_callback_url_transfer_put"),
        Some("FSPIOP_CALLBACK_URL_TRANSFER_PUT")
    );
    assert_eq!(
        endpoint_type("FSPIOP_CALLBACK_URL_TRANSFER_PUT "),
        None,
        "MySQL's NO PAD collation keeps trailing spaces"
    );
    assert_eq!(endpoint_type("NOPE"), None);
    let ids: Vec<u16> = ENDPOINT_TYPES.iter().map(|(_, id)| *id).collect();
    assert_eq!(
        (ids[0], ids[47], ids[48], ids[61]),
        (1, 48, 50, 63),
        "the seed's duplicate row takes id 49"
    );
    assert!(ids.windows(2).all(|it| it[0] < it[1]));
    assert_eq!(
        enums_body()["endpointType"]["TP_CB_URL_CREATE_CREDENTIAL_POST"],
        50
    );
}
