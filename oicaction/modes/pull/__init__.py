"""mode: pull. Export integrations (or an OIC 3 project) from OIC into the repository as
reviewable source: select, download and check every archive, then write each in place
(README, "Pulling from OIC")."""
