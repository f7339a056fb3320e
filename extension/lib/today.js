// What the "already saved" panel says about the daily loop: is this person due for a catch-up
// (and since when), and what dates of theirs come up in the next two weeks. Plain text: the
// panel puts it in with textContent.

/** 'Due since 3 Mar 2025 (every 30 days)', 'Next on 12 Apr 2025 (every 30 days)', ... */
export function catchUpText(catchUp, formatDate) {
  if (!catchUp || !catchUp.cadence) return { text: 'No keep-in-touch cadence', state: 'none' };
  const every = `every ${catchUp.cadence} days`;
  if (catchUp.due) return { text: `Due since ${formatDate(catchUp.due_on)} (${every})`, state: 'due' };
  if (catchUp.snoozed_until) return { text: `Snoozed until ${formatDate(catchUp.snoozed_until)}`, state: 'snoozed' };
  if (catchUp.due_on) return { text: `Next on ${formatDate(catchUp.due_on)} (${every})`, state: 'ok' };
  return { text: every, state: 'ok' };
}

/** 'Birthday (turns 36), in 3 days · Wedding anniversary (10 years), today'; '' when nothing. */
export function upcomingText(items) {
  return (items || []).map((item) => {
    const days = item.in_days;
    const when = days === 0 ? 'today' : days === 1 ? 'tomorrow' : `in ${days} days`;
    return `${item.text || item.label}, ${when}`;
  }).join(' · ');
}
