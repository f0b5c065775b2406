//! Pagination metadata at any page, limit and total: no overflow, and the fields agree with each
//! other as mongoose-paginate-v2 defines them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use okra_core::pagination::{PageRequest, MAX_LIMIT};

fuzz_target!(|input: (u32, u32, u64)| {
    let (page, limit, total) = input;
    let req = PageRequest {
        page: page.max(1),
        limit: limit % MAX_LIMIT + 1,
    };
    let p = req.paginate(total);
    let (page, limit) = (u64::from(req.page), u64::from(req.limit));
    assert_eq!(p.page, page);
    assert_eq!(p.limit, limit);
    assert_eq!(p.total_docs, total);
    let pages = if total == 0 { 1 } else { total.div_ceil(limit) };
    assert_eq!(p.total_pages, pages);
    assert!(p.total_pages >= 1);
    assert_eq!(p.has_prev_page, page > 1);
    assert_eq!(p.has_next_page, page < pages);
    assert_eq!(p.prev_page, (page > 1).then(|| page - 1));
    assert_eq!(p.next_page, (page < pages).then(|| page + 1));
    assert_eq!(p.paging_counter, (page - 1) * limit + 1);
    assert_eq!(
        req.offset(),
        (i64::from(req.page) - 1) * i64::from(req.limit)
    );
    assert!(req.offset() >= 0);
});
