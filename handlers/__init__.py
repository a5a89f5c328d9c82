"""The conversation flows, platform-neutral: one module per flow, collected here.

A flow sees an `Event` and returns `Reply`s; it imports no platform library and writes
no SQL (repositories arrive on the context).
"""

from handlers import (
    attendance,
    broadcast_compose,
    commands,
    courses,
    credential,
    fairs,
    hire_view,
    hires,
    hiring,
    household_request,
    interview_answers,
    interviews,
    links,
    menus,
    my_signups,
    notices,
    numbers,
    onboarding,
    phone,
    privacy,
    problems,
    reviews,
    signup,
    staff_exports,
    staff_files,
    staff_reports,
    staff_roles,
    vetting,
    worker_profile,
)
from handlers.router import Flows

FLOWS = Flows(
    [
        onboarding.router,
        menus.router,
        commands.router,
        privacy.router,
        courses.router,
        signup.router,
        my_signups.router,
        fairs.router,
        links.router,
        phone.router,
        worker_profile.router,
        vetting.router,
        attendance.router,
        credential.router,
        household_request.router,
        hires.router,
        interviews.router,
        interview_answers.router,
        hiring.router,
        hire_view.router,
        reviews.router,
        problems.router,
        staff_reports.router,
        staff_roles.router,
        numbers.router,
        staff_files.router,
        staff_exports.router,
        notices.router,
        broadcast_compose.router,
    ]
)
