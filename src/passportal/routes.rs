//! Every Passportal route the project uses, in one place. Routes marked `assumed` are not in any
//! public documentation: the native integration does these internally, and README lists them so
//! an operator can check them against their instance's Swagger (`/api/documentation/v2/swagger`).

/// A route: method, path (with `{id}` placeholders), and whether public sources confirm it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub confirmed: bool,
    pub purpose: &'static str,
}

pub const TOKEN: Route = Route {
    method: "POST",
    path: "/api/v2/auth/client_token",
    confirmed: true,
    purpose: "exchange the access key for a token",
};

pub const LIST_CLIENTS: Route = Route {
    method: "GET",
    path: "/api/v2/documents/clients",
    confirmed: true,
    purpose: "list clients (paged)",
};

pub const CREATE_CLIENT: Route = Route {
    method: "POST",
    path: "/api/v2/clients",
    confirmed: false,
    purpose: "create a client",
};

/// Every route, for README and `atpp routes`.
pub const ALL: &[Route] = &[TOKEN, LIST_CLIENTS, CREATE_CLIENT];
