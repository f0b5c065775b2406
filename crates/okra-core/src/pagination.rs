//! Pagination with mongoose-paginate-v2 semantics (docs/api.md §6), in one place for every list.

use serde::Serialize;
use utoipa::ToSchema;

/// Default page size: what Okra actually returned.
pub const DEFAULT_LIMIT: u32 = 20;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;

/// A validated page request: `page >= 1`, `1 <= limit <= 100`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Page size.
    pub limit: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl PageRequest {
    /// Rows to skip for this page (`(page - 1) * limit`), computed in 64 bits so huge pages cannot overflow.
    pub fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.limit)
    }

    /// The metadata for this page given the total number of matching documents.
    pub fn paginate(&self, total_docs: u64) -> Pagination {
        let limit = u64::from(self.limit);
        let page = u64::from(self.page);
        let total_pages = if total_docs == 0 {
            1
        } else {
            total_docs.div_ceil(limit)
        };
        let has_prev = page > 1;
        let has_next = page < total_pages;
        Pagination {
            total_docs,
            limit,
            has_prev_page: has_prev,
            has_next_page: has_next,
            page,
            total_pages,
            paging_counter: (page - 1) * limit + 1,
            prev_page: has_prev.then(|| page - 1),
            next_page: has_next.then(|| page + 1),
        }
    }
}

/// The `pagination` object of every list response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Total number of results that match the request.
    pub total_docs: u64,
    /// The page size used.
    pub limit: u64,
    /// `page > 1`.
    pub has_prev_page: bool,
    /// `page < totalPages`.
    pub has_next_page: bool,
    /// The current page.
    pub page: u64,
    /// `ceil(totalDocs / limit)`, but 1 when there are no documents.
    pub total_pages: u64,
    /// 1-based index of the first result on this page.
    pub paging_counter: u64,
    /// Previous page number or null.
    pub prev_page: Option<u64>,
    /// Next page number or null.
    pub next_page: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(page: u32, limit: u32, total: u64) -> Pagination {
        PageRequest { page, limit }.paginate(total)
    }

    #[test]
    fn empty_result_has_one_page() {
        let m = p(1, 20, 0);
        assert_eq!(m.total_pages, 1);
        assert!(!m.has_next_page && !m.has_prev_page);
        assert_eq!(m.prev_page, None);
        assert_eq!(m.next_page, None);
        assert_eq!(m.paging_counter, 1);
    }

    #[test]
    fn reference_example_32_docs_limit_1() {
        let m = p(1, 1, 32);
        assert_eq!(m.total_pages, 32);
        assert!(m.has_next_page);
        assert_eq!(m.next_page, Some(2));
        assert_eq!(m.prev_page, None);
    }

    #[test]
    fn middle_last_and_past_the_end() {
        let m = p(2, 10, 25);
        assert_eq!(
            (m.total_pages, m.paging_counter, m.prev_page, m.next_page),
            (3, 11, Some(1), Some(3))
        );
        let last = p(3, 10, 25);
        assert!(!last.has_next_page);
        assert_eq!(last.next_page, None);
        let past = p(9, 10, 25);
        assert_eq!(past.page, 9);
        assert!(past.has_prev_page && !past.has_next_page);
        assert_eq!(past.paging_counter, 81);
        assert_eq!(past.prev_page, Some(8));
    }

    #[test]
    fn serialises_with_okra_names_and_explicit_nulls() {
        let v = serde_json::to_value(p(1, 20, 1)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        for k in [
            "totalDocs",
            "limit",
            "hasPrevPage",
            "hasNextPage",
            "page",
            "totalPages",
            "pagingCounter",
            "prevPage",
            "nextPage",
        ] {
            assert!(keys.contains(&k), "missing {k}");
        }
        assert!(v["prevPage"].is_null() && v["nextPage"].is_null());
    }

    #[test]
    fn offset_does_not_overflow() {
        assert_eq!(
            PageRequest {
                page: u32::MAX,
                limit: 100
            }
            .offset(),
            (i64::from(u32::MAX) - 1) * 100
        );
    }
}
