//! The `footfall` command line: its commands ([`Cli`]) and what each does. `main.rs`
//! parses the command line and calls [`run`]; `serve` builds the [`Application`], the
//! other commands manage what is stored (sites, report tokens, share links, goals,
//! funnels) or check and export dashboard definitions, or import a site's pages into the
//! content registry (`content import`). Commands that touch ClickHouse apply pending
//! migrations once, first.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::auth::{self, TokenKind, TokenRecord};
use crate::config::Settings;
use crate::goals::{Funnel, Goal, GoalName, Target};
use crate::reports::params::LockedFilters;
use crate::sites::{Domain, Site, SiteRegistry};
use crate::store::Store;
use crate::{init_logging, Application};

/// Privacy-first web analytics collector.
#[derive(Parser)]
#[command(name = "footfall", version, about)]
pub struct Cli {
    /// Config file (default: $FOOTFALL_CONFIG, else ./footfall.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply the schema, then serve the event intake and operations endpoints.
    Serve,
    /// Create the database and apply every pending schema migration.
    Migrate,
    /// Manage the sites footfall accepts events for.
    Sites {
        #[command(subcommand)]
        command: SitesCommand,
    },
    /// Manage read-only report tokens (one site each; only their hash is stored).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Dashboards defined in `dashboards/` (see docs/dashboard.md).
    Dashboards {
        #[command(subcommand)]
        command: DashboardsCommand,
    },
    /// Read-only share links to one site's dashboard (revocable).
    Share {
        #[command(subcommand)]
        command: ShareCommand,
    },
    /// The content registry: a site's pages and their publish times.
    Content {
        #[command(subcommand)]
        command: ContentCommand,
    },
    /// Goals: what a site counts as a conversion (the goals report, the `goal=` filter).
    Goals {
        #[command(subcommand)]
        command: GoalsCommand,
    },
    /// Funnels: goals a visitor reaches in order within one day (the funnel report).
    Funnels {
        #[command(subcommand)]
        command: FunnelsCommand,
    },
}

#[derive(Subcommand)]
pub enum FunnelsCommand {
    /// Define a funnel (or redefine the site's funnel of that name): 2 to 8 of the site's
    /// goals, in the order visitors should reach them.
    Add {
        /// The site the funnel belongs to.
        #[arg(long)]
        site: String,
        /// The funnel's name, as `funnel=` names it.
        name: String,
        /// The goals, in order (each a goal's name, see `footfall goals list`).
        #[arg(required = true, num_args = 1..)]
        steps: Vec<String>,
    },
    /// List the funnels (of one site, or of every site).
    List {
        /// Only the funnels of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Remove a site's funnel.
    Remove {
        /// The site the funnel belongs to.
        #[arg(long)]
        site: String,
        /// The funnel's name.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum GoalsCommand {
    /// Define a goal (or redefine the site's goal of that name): reached by a custom event
    /// of a name, or by a pageview whose path matches a pattern.
    Add {
        /// The site the goal belongs to.
        #[arg(long)]
        site: String,
        /// The goal's name, as reports show it and `goal=` names it.
        name: String,
        /// A custom event's name (what `footfall('NAME')` sends).
        #[arg(long, conflicts_with = "page", required_unless_present = "page", value_name = "NAME")]
        event: Option<String>,
        /// A path pattern: `*` matches any characters, e.g. /blog/* or /thanks.
        #[arg(long, value_name = "PATTERN")]
        page: Option<String>,
    },
    /// List the goals (of one site, or of every site).
    List {
        /// Only the goals of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Remove a site's goal.
    Remove {
        /// The site the goal belongs to.
        #[arg(long)]
        site: String,
        /// The goal's name.
        name: String,
    },
}

#[derive(Subcommand)]
pub enum ContentCommand {
    /// Register the pages a sitemap, RSS 2.0 or Atom feed lists, with their publish times
    /// and titles (all or none; the earliest publish time of a page wins). Entries without
    /// a date are skipped and counted.
    Import {
        /// The site the pages belong to.
        #[arg(long)]
        site: String,
        /// A file, or an http:// or https:// URL (gzip-compressed or not).
        source: String,
    },
}

#[derive(Subcommand)]
pub enum DashboardsCommand {
    /// Check every definition file and list the dashboards (a broken file fails the command).
    Check,
    /// Write each dashboard as Grafana dashboard JSON for the ClickHouse data source.
    ExportGrafana {
        /// Directory to write `<dashboard>.grafana.json` files into.
        #[arg(long, default_value = "grafana")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ShareCommand {
    /// Make a share link for a site; the link is printed once, only its hash is stored.
    Create {
        /// The site the link shows.
        #[arg(long)]
        site: String,
        /// A report filter the link locks (repeatable): every report its viewer sees
        /// applies it, and the viewer cannot remove or change it. NAME=VALUE as the
        /// reports take it, split at the first `=`: `country=GB`, `country=!US` (not US),
        /// `page=/pricing`, `prop.plan=pro`, `goal=Signed up` (docs/reports.md#filters).
        #[arg(long = "filter", value_name = "NAME=VALUE")]
        filters: Vec<String>,
        /// Where people reach this collector (the link's start).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
        /// Free text to recognise the link by (who it was given to).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the share links that are not revoked (ids, never the links).
    List,
    /// Revoke a share link by its id; open pages stop working within
    /// `reports.tokens_refresh_secs` (10 s by default).
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Make a token that may read one site's reports; it is printed once, never stored.
    Create {
        /// The site whose reports the token may read.
        #[arg(long)]
        site: String,
        /// Free text to recognise the token by (who or what uses it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the tokens that are not revoked (ids, never the tokens).
    List {
        /// Only the tokens of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Revoke a token by its id; running collectors refuse it within
    /// `reports.tokens_refresh_secs` (10 s by default).
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum SitesCommand {
    /// Register a site (or update its time zone and origins).
    Add {
        /// The site's domain; pages on it and its subdomains may send events.
        domain: String,
        /// IANA time zone for the site's reports.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// A further origin allowed to send events for the site (repeatable); `null` admits
        /// opaque origins (sandboxed iframes, `file:` pages).
        #[arg(long = "origin", value_name = "ORIGIN")]
        origins: Vec<String>,
        /// Consent mode: count only visitors who consented (the beacon waits for
        /// `footfall.consent(true)`); events without `"consent": true` are refused.
        #[arg(long)]
        consent: bool,
        /// Count visitors whose browser sends `DNT: 1` (the same choice as the beacon's
        /// `data-dnt="ignore"`). Global Privacy Control and opt-outs are always honoured.
        #[arg(long)]
        ignore_dnt: bool,
        /// A regular expression for identifiers in this site's page paths (repeatable):
        /// what it matches (its first group, when it has one) is stored as `[id]`.
        #[arg(long = "redact", value_name = "REGEX")]
        redact: Vec<String>,
    },
    /// List registered sites.
    List,
    /// Stop accepting events for a site (its events stay).
    Remove { domain: String },
}

/// Runs the command `cli` names.
///
/// # Errors
/// Settings that do not load, ClickHouse unreachable or refusing, a command's own
/// failure (each with what to do about it).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings.log_level)?;
    let store = || async {
        let store = Store::new(&settings.clickhouse);
        let applied = store.migrate().await.context("applying the schema")?;
        anyhow::Ok((store, applied))
    };
    match cli.command {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await,
        Command::Migrate => {
            let (store, applied) = store().await?;
            println!("database `{}`: applied {} migration(s) {:?}", store.database(), applied.len(), applied);
            Ok(())
        }
        Command::Sites { command } => sites(command, &store().await?.0).await,
        Command::Tokens { command } => tokens(command, &store().await?.0).await,
        Command::Share { command } => share(command, &store().await?.0).await,
        Command::Content { command } => content(command, &store().await?.0).await,
        Command::Goals { command } => goals(command, &store().await?.0).await,
        Command::Funnels { command } => funnels(command, &store().await?.0).await,
        Command::Dashboards { command } => dashboards(command, &settings),
    }
}

fn dashboards(command: DashboardsCommand, settings: &Settings) -> anyhow::Result<()> {
    let catalog = crate::dashboard::definition::Catalog::load(&settings.dashboards_dir);
    for problem in &catalog.problems {
        eprintln!("error: {problem}");
    }
    match command {
        DashboardsCommand::Check => {
            for dashboard in &catalog.dashboards {
                println!("{:<20} {} ({} panels)", dashboard.slug, dashboard.title, dashboard.panels.len());
            }
        }
        DashboardsCommand::ExportGrafana { out } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for dashboard in &catalog.dashboards {
                let json = crate::dashboard::grafana::export(
                    dashboard,
                    &settings.clickhouse.database,
                    settings.reports.min_visitors,
                );
                let file = out.join(format!("{}.grafana.json", dashboard.slug));
                std::fs::write(&file, serde_json::to_string_pretty(&json)? + "\n")
                    .with_context(|| format!("writing {}", file.display()))?;
                println!("{}", file.display());
            }
        }
    }
    if !catalog.problems.is_empty() {
        anyhow::bail!("{} dashboard file(s) could not be loaded (above)", catalog.problems.len());
    }
    Ok(())
}

async fn content(command: ContentCommand, store: &Store) -> anyhow::Result<()> {
    let ContentCommand::Import { site, source } = command;
    let domain = Domain::parse(&site)?;
    let sites = SiteRegistry::new(std::sync::Arc::new(store.clone()));
    sites.reload().await.map_err(|error| anyhow::anyhow!(error)).context("reading sites")?;
    let Some(site) = sites.get(domain.as_str()) else {
        anyhow::bail!("no site {domain} is registered; add it first with `footfall sites add {domain}`");
    };
    let import = crate::content::import(store, &site, &source).await?;
    println!("{import}");
    Ok(())
}

async fn goals(command: GoalsCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        GoalsCommand::Add { site, name, event, page } => {
            let site = registered(store, &site).await?;
            let target = match (event, page) {
                (Some(event), _) => Target::event(&event)?,
                (None, Some(page)) => Target::page(&page)?,
                (None, None) => unreachable!("clap requires --event or --page"),
            };
            let goal = Goal { site: site.to_string(), name: GoalName::parse(&name)?, target };
            store.put_goal(&goal).await.context("writing the goal")?;
            println!("goal {} of {site} added ({})", goal.name, goal.target);
        }
        GoalsCommand::List { site } => {
            let site = site.map(|site| Domain::parse(&site)).transpose()?;
            println!("{:<40} {:<32} MATCHES", "SITE", "GOAL");
            for goal in store.goals(site.as_ref().map(Domain::as_str)).await.context("reading goals")? {
                println!("{:<40} {:<32} {}", goal.site, goal.name, goal.target);
            }
        }
        GoalsCommand::Remove { site, name } => {
            let site = Domain::parse(&site)?;
            if !store.remove_goal(site.as_str(), &name).await.context("removing the goal")? {
                anyhow::bail!("site {site} has no goal {name:?}; `footfall goals list --site {site}` lists them");
            }
            println!("goal {name} of {site} removed");
        }
    }
    Ok(())
}

async fn funnels(command: FunnelsCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        FunnelsCommand::Add { site, name, steps } => {
            let site = registered(store, &site).await?;
            let goals = store.goals(Some(site.as_str())).await.context("reading goals")?;
            let steps = steps
                .iter()
                .map(|step| match goals.iter().find(|goal| goal.name.as_str() == step) {
                    Some(goal) => Ok(goal.name.clone()),
                    None => {
                        Err(anyhow::anyhow!("site {site} has no goal {step:?}; add it with `footfall goals add` first"))
                    }
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let funnel = Funnel::new(site.as_str(), GoalName::parse(&name)?, steps)?;
            store.put_funnel(&funnel).await.context("writing the funnel")?;
            let steps: Vec<&str> = funnel.steps.iter().map(GoalName::as_str).collect();
            println!("funnel {} of {site} added ({})", funnel.name, steps.join(" > "));
        }
        FunnelsCommand::List { site } => {
            let site = site.map(|site| Domain::parse(&site)).transpose()?;
            println!("{:<40} {:<32} STEPS", "SITE", "FUNNEL");
            for funnel in store.funnels(site.as_ref().map(Domain::as_str)).await.context("reading funnels")? {
                let steps: Vec<&str> = funnel.steps.iter().map(GoalName::as_str).collect();
                println!("{:<40} {:<32} {}", funnel.site, funnel.name, steps.join(" > "));
            }
        }
        FunnelsCommand::Remove { site, name } => {
            let site = Domain::parse(&site)?;
            if !store.remove_funnel(site.as_str(), &name).await.context("removing the funnel")? {
                anyhow::bail!("site {site} has no funnel {name:?}; `footfall funnels list --site {site}` lists them");
            }
            println!("funnel {name} of {site} removed");
        }
    }
    Ok(())
}

/// `site`, checked and registered.
async fn registered(store: &Store, site: &str) -> anyhow::Result<Domain> {
    let site = Domain::parse(site)?;
    let sites = store.list_sites().await.context("reading sites")?;
    if !sites.iter().any(|registered| registered.domain == site) {
        anyhow::bail!("no site {site} is registered; add it first with `footfall sites add {site}`");
    }
    Ok(site)
}

async fn share(command: ShareCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        ShareCommand::Create { site, filters, base_url, label } => {
            let locked = LockedFilters::from_args(&filters).map_err(|error| anyhow::anyhow!("--filter: {error}"))?;
            let domain = registered(store, &site).await?;
            let goals = store.goals(Some(domain.as_str())).await.context("reading the site's goals")?;
            if let Some(missing) = locked.goals().find(|name| !goals.iter().any(|goal| goal.name.as_str() == *name)) {
                anyhow::bail!(
                    "--filter goal={missing}: {domain} has no such goal; `footfall goals list --site {domain}` lists them"
                );
            }
            let token = create_token(store, &site, TokenKind::ShareLink, label, &locked).await?;
            println!("{}/dashboard/share?token={token}", base_url.trim_end_matches('/'));
            Ok(())
        }
        ShareCommand::List => list_tokens(store, TokenKind::ShareLink, None).await,
        ShareCommand::Revoke { id } => revoke(store, TokenKind::ShareLink, &id).await,
    }
}

/// Stores a new token of `kind` for `site`, locking `locked` (share links), and returns
/// it (it is shown once).
async fn create_token(
    store: &Store,
    site: &str,
    kind: TokenKind,
    label: String,
    locked: &LockedFilters,
) -> anyhow::Result<String> {
    let site = registered(store, site).await?;
    let new = auth::new_token();
    let created_at = chrono::Utc::now().timestamp() as u32;
    let record = TokenRecord {
        id: new.id.clone(),
        site: site.to_string(),
        hash: new.hash,
        label,
        created_at,
        kind,
        locked_filters: locked.to_query(),
    };
    store.put_token(&record).await.context("writing the token")?;
    eprintln!("{} {} for site {site} created; it is shown once, store it now:", noun(kind), new.id);
    Ok(new.token)
}

/// What a token of `kind` is called in messages.
fn noun(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Report => "token",
        TokenKind::ShareLink => "share link",
    }
}

/// Prints the tokens of `kind` that are not revoked (of `site` only, when given).
/// Share links also show the filters they lock (`NAME=VALUE`, `; `-separated; `-`: none).
async fn list_tokens(store: &Store, kind: TokenKind, site: Option<&str>) -> anyhow::Result<()> {
    let share_links = kind == TokenKind::ShareLink;
    if share_links {
        println!("{:<14} {:<40} {:<22} {:<32} LABEL", "ID", "SITE", "CREATED (UTC)", "LOCKED FILTERS");
    } else {
        println!("{:<14} {:<40} {:<22} LABEL", "ID", "SITE", "CREATED (UTC)");
    }
    for token in store.list_tokens().await.context("reading tokens")? {
        if token.kind != kind || site.is_some_and(|site| site != token.site) {
            continue;
        }
        let created = chrono::DateTime::from_timestamp(i64::from(token.created_at), 0)
            .map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        if share_links {
            let pairs = LockedFilters::parse(&token.locked_filters).map(|locked| locked.pairs());
            let locked = match pairs {
                Ok(pairs) if pairs.is_empty() => "-".to_string(),
                Ok(pairs) => pairs.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; "),
                Err(error) => format!("(unreadable, the link shows nothing: {error})"),
            };
            println!("{:<14} {:<40} {:<22} {:<32} {}", token.id, token.site, created, locked, token.label);
        } else {
            println!("{:<14} {:<40} {:<22} {}", token.id, token.site, created, token.label);
        }
    }
    Ok(())
}

/// Revokes the token of `kind` with id `id`.
async fn revoke(store: &Store, kind: TokenKind, id: &str) -> anyhow::Result<()> {
    let listing = match kind {
        TokenKind::Report => "footfall tokens list",
        TokenKind::ShareLink => "footfall share list",
    };
    if !store.revoke_token(id, kind).await.context("revoking the token")? {
        anyhow::bail!("no {} {id}; `{listing}` shows the ids", noun(kind));
    }
    println!("{} {id} revoked", noun(kind));
    Ok(())
}

async fn sites(command: SitesCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        SitesCommand::Add { domain, timezone, origins, consent, ignore_dnt, redact } => {
            let site = Site::new(&domain, &timezone, &origins)?
                .with_consent(consent)
                .with_ignore_dnt(ignore_dnt)
                .with_redact(&redact)?;
            store.put_site(&site).await.context("writing the site")?;
            let mode = if site.consent { ", consent mode" } else { "" };
            let dnt = if site.ignore_dnt { ", DNT ignored" } else { "" };
            let patterns = if site.redact.is_empty() {
                String::new()
            } else {
                format!(", {} redact pattern(s)", site.redact.len())
            };
            println!("site {} added (time zone {}{mode}{dnt}{patterns})", site.domain, site.timezone);
        }
        SitesCommand::List => {
            println!("{:<40} {:<24} {:<8} ORIGINS", "DOMAIN", "TIMEZONE", "CONSENT");
            for site in store.list_sites().await.context("reading sites")? {
                let consent = if site.consent { "required" } else { "-" };
                println!("{:<40} {:<24} {:<8} {}", site.domain, site.timezone, consent, site.origins.join(" "));
            }
        }
        SitesCommand::Remove { domain } => {
            let domain = Domain::parse(&domain)?;
            if store.remove_site(&domain).await.context("removing the site")? {
                println!("site {domain} removed");
            } else {
                anyhow::bail!("no site {domain} is registered");
            }
        }
    }
    Ok(())
}

async fn tokens(command: TokensCommand, store: &Store) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create { site, label } => {
            println!("{}", create_token(store, &site, TokenKind::Report, label, &LockedFilters::default()).await?);
            Ok(())
        }
        TokensCommand::List { site } => list_tokens(store, TokenKind::Report, site.as_deref()).await,
        TokensCommand::Revoke { id } => revoke(store, TokenKind::Report, &id).await,
    }
}
