//! How much of its net debit cap an account uses: the figure the position function reports for
//! the operators' alert.

use ledger_core::account::NetDebitCap;
use ledger_core::amount::Amount;
use ledger_core::position::PositionAccount;

fn account(position: i128, reserved: i128, cap: Option<i128>) -> PositionAccount {
    PositionAccount {
        position: Amount::from_units(position),
        reserved: Amount::from_units(reserved),
        settlement_balance: Amount::from_units(0),
        net_debit_cap: cap.map(|it| NetDebitCap::new(Amount::from_units(it)).unwrap()),
    }
}

#[test]
fn position_and_reservations_over_the_cap_in_whole_percent_rounded_down() {
    assert_eq!(account(900_000, 0, Some(1_000_000)).ndc_used_percent(), Some(90));
    assert_eq!(account(899_999, 0, Some(1_000_000)).ndc_used_percent(), Some(89));
    assert_eq!(account(800_000, 100_000, Some(1_000_000)).ndc_used_percent(), Some(90));
    assert_eq!(account(1_000_000, 0, Some(1_000_000)).ndc_used_percent(), Some(100));
    assert_eq!(account(3_000_000, 0, Some(1_000_000)).ndc_used_percent(), Some(300));
}

#[test]
fn a_dfsp_in_credit_uses_none_of_its_cap() {
    assert_eq!(account(-5_000, 0, Some(1_000_000)).ndc_used_percent(), Some(0));
    assert_eq!(account(0, 0, Some(1_000_000)).ndc_used_percent(), Some(0));
}

#[test]
fn without_a_cap_or_with_a_zero_cap_there_is_no_share() {
    assert_eq!(account(10, 0, None).ndc_used_percent(), None);
    assert_eq!(account(10, 0, Some(0)).ndc_used_percent(), None);
}

#[test]
fn the_largest_amounts_do_not_overflow() {
    assert_eq!(account(i128::MAX / 2, 0, Some(1)).ndc_used_percent(), Some(u64::MAX));
}
