//! The `goals` and `funnels` tables (`schema/0018_goals.sql`): each site's goals and
//! funnels, as `crate::goals` defines them. Every change inserts a row; reads take the
//! newest row per site and name and leave out the removed ones, so adding a goal or
//! funnel again replaces it.

use clickhouse::Row;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::goals::{Funnel, Goal, GoalName, Target};

/// The goals that are not removed, of site `?` (or of every site when `?` is empty), by
/// site and name. Parameters: the site, twice.
pub(super) const LIST_GOALS: &str = "SELECT site, name, latest_kind AS kind, latest_target AS target FROM ( \
       SELECT site, name, argMax(kind, changed) AS latest_kind, argMax(target, changed) AS latest_target, \
              argMax(removed, changed) AS latest_removed \
       FROM goals WHERE (? = '' OR site = ?) GROUP BY site, name \
     ) WHERE latest_removed = 0 ORDER BY site, name";

/// The funnels that are not removed, of site `?` (or of every site when `?` is empty), by
/// site and name. Parameters: the site, twice.
pub(super) const LIST_FUNNELS: &str = "SELECT site, name, latest_steps AS steps FROM ( \
       SELECT site, name, argMax(steps, changed) AS latest_steps, argMax(removed, changed) AS latest_removed \
       FROM funnels WHERE (? = '' OR site = ?) GROUP BY site, name \
     ) WHERE latest_removed = 0 ORDER BY site, name";

/// One row of `funnels` as written.
#[derive(Row, Serialize)]
struct FunnelRow<'a> {
    site: &'a str,
    name: &'a str,
    steps: Vec<&'a str>,
    changed: u64,
    removed: u8,
}

/// A funnel as [`LIST_FUNNELS`] returns it.
#[derive(Debug, Row, Deserialize)]
pub(super) struct ListedFunnel {
    site: String,
    name: String,
    steps: Vec<String>,
}

/// One row of `goals` as written.
#[derive(Row, Serialize)]
struct GoalRow<'a> {
    site: &'a str,
    name: &'a str,
    kind: &'a str,
    target: &'a str,
    changed: u64,
    removed: u8,
}

/// A goal as [`LIST_GOALS`] returns it.
#[derive(Debug, Row, Deserialize)]
pub(super) struct ListedGoal {
    site: String,
    name: String,
    kind: String,
    target: String,
}

impl Store {
    /// Adds `goal`, replacing a goal of the same site and name.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn put_goal(&self, goal: &Goal) -> Result<(), StoreError> {
        let target = &goal.target;
        self.write_goal(&goal.site, goal.name.as_str(), target.kind(), target.value(), 0).await
    }

    /// Removes goal `name` of `site`; `false` when there is no such goal.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn remove_goal(&self, site: &str, name: &str) -> Result<bool, StoreError> {
        if !self.goals(Some(site)).await?.iter().any(|goal| goal.name.as_str() == name) {
            return Ok(false);
        }
        self.write_goal(site, name, "", "", 1).await?;
        Ok(true)
    }

    /// The goals of `site`, or of every site, by site and name. A stored row that no
    /// longer passes the goal rules (written by hand) is left out.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn goals(&self, site: Option<&str>) -> Result<Vec<Goal>, StoreError> {
        let site = site.unwrap_or_default();
        let rows: Vec<ListedGoal> = self.client.query(LIST_GOALS).bind(site).bind(site).fetch_all().await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let target = match row.kind.as_str() {
                    "event" => Target::event(&row.target).ok()?,
                    "page" => Target::page(&row.target).ok()?,
                    _ => return None,
                };
                Some(Goal { site: row.site, name: GoalName::parse(&row.name).ok()?, target })
            })
            .collect())
    }

    /// Adds `funnel`, replacing a funnel of the same site and name.
    ///
    /// # Errors
    /// ClickHouse being unreachable or rejecting the write.
    pub async fn put_funnel(&self, funnel: &Funnel) -> Result<(), StoreError> {
        let steps = funnel.steps.iter().map(GoalName::as_str).collect();
        self.write_funnel(&funnel.site, funnel.name.as_str(), steps, 0).await
    }

    /// Removes funnel `name` of `site`; `false` when there is no such funnel.
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn remove_funnel(&self, site: &str, name: &str) -> Result<bool, StoreError> {
        if !self.funnels(Some(site)).await?.iter().any(|funnel| funnel.name.as_str() == name) {
            return Ok(false);
        }
        self.write_funnel(site, name, Vec::new(), 1).await?;
        Ok(true)
    }

    /// The funnels of `site`, or of every site, by site and name (rows that no longer
    /// pass the rules left out, as [`Store::goals`] does).
    ///
    /// # Errors
    /// ClickHouse being unreachable or answering an error.
    pub async fn funnels(&self, site: Option<&str>) -> Result<Vec<Funnel>, StoreError> {
        let site = site.unwrap_or_default();
        let rows: Vec<ListedFunnel> = self.client.query(LIST_FUNNELS).bind(site).bind(site).fetch_all().await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let steps = row.steps.iter().map(|step| GoalName::parse(step).ok()).collect::<Option<Vec<_>>>()?;
                Funnel::new(&row.site, GoalName::parse(&row.name).ok()?, steps).ok()
            })
            .collect())
    }

    async fn write_funnel(&self, site: &str, name: &str, steps: Vec<&str>, removed: u8) -> Result<(), StoreError> {
        let changed = chrono::Utc::now().timestamp_micros() as u64;
        let mut insert = self.client.insert::<FunnelRow<'_>>("funnels").await?;
        insert.write(&FunnelRow { site, name, steps, changed, removed }).await?;
        insert.end().await.map_err(StoreError::from)
    }

    async fn write_goal(
        &self,
        site: &str,
        name: &str,
        kind: &str,
        target: &str,
        removed: u8,
    ) -> Result<(), StoreError> {
        let changed = chrono::Utc::now().timestamp_micros() as u64;
        let mut insert = self.client.insert::<GoalRow<'_>>("goals").await?;
        insert.write(&GoalRow { site, name, kind, target, changed, removed }).await?;
        insert.end().await.map_err(StoreError::from)
    }
}
